"""The training interactions as the sparse user x item matrix both baselines start from."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from trainer.data import RecDataset


def interaction_matrix(dataset: RecDataset, inputs: str) -> sp.csr_matrix:
    """Binary CSR [users, items] of the training interactions named by ``inputs``."""
    interactions = dataset.train if inputs == "all" else dataset.train_positive
    matrix = sp.csr_matrix(
        (np.ones(len(interactions), dtype=np.float32), (interactions.users, interactions.items)),
        shape=(dataset.num_users, dataset.num_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix
