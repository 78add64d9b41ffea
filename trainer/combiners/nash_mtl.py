"""Nash-MTL (Navon et al., ICML 2022, https://arxiv.org/abs/2202.01017): the update
``sum_t a_t g_t`` is the Nash bargaining solution, a > 0 solving ``G a = 1 / a`` (G the Gram
matrix), found by the paper's sequence of convex programmes. TorchJD's ``NashMTL`` follows the
authors' code; it needs cvxpy and ecos: ``pip install 'pmtrec[nash]'``."""

from __future__ import annotations

from trainer.combiners.jacobian import TorchJDCombiner
from trainer.registry import implements


@implements("combiner", "nash_mtl")
class NashMTL(TorchJDCombiner):
    def __init__(self, num_tasks: int = 3):
        self.num_tasks = num_tasks
        super().__init__()

    def build_aggregator(self):
        try:
            import cvxpy  # noqa: F401
            import ecos  # noqa: F401
        except ImportError as error:
            raise ValueError(
                "method 'nash_mtl' needs the optional solvers cvxpy and ecos: "
                "pip install 'pmtrec[nash]'"
            ) from error
        from torchjd.aggregation import NashMTL as Aggregator

        return Aggregator(n_tasks=self.num_tasks)
