"""The worked examples of docs/extending.md, as written there: each declaration goes into a
plug-in module, each implementation into a module of its own, and the trainer trains a model
with all four (combiner, encoder, task, dataset) and validates their parameters."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np

from tests.conftest import REPO

BLOCK = re.compile(r"```python\n# (\S+)\n(.*?)```", re.DOTALL)
DECLARATIONS_HEADER = (
    "from shared.components import CORE, STAR_SCALE\n"
    "from shared.registry import COMBINERS, DATASETS, ENCODERS, TASKS, Param\n\n"
)
SCRIPT = """
import sys
import aux_weighted, cosine_mf, movielens, vector_norm
from trainer.data import load_dataset
from trainer.training import ConfigError, TrainConfig, Trainer

dataset = load_dataset("ml-100k", sys.argv[1], allow_download=False)
config = TrainConfig(
    method="aux_weighted", aux_weight=0.3, encoder="cosine_mf", cosine_scale=2.0,
    auxiliary_tasks=("rating", "vector_norm"), norm_weight=0.05, epochs=2, batch_size=256,
    dim=8, device="cpu",
)
trainer = Trainer(dataset, config, progress=False)
result = trainer.fit()
print(type(trainer.combiner).__name__, type(trainer.encoder).__name__, result.task_names)
for bad in ({"aux_weight": -1.0}, {"cosine_scale": 0.0}, {"norm_weight": -0.5}):
    try:
        TrainConfig(**bad)
    except ConfigError as error:
        print("refused:", error)
"""


def test_the_documented_examples_train(tmp_path):
    blocks = BLOCK.findall((REPO / "docs" / "extending.md").read_text())
    declarations = [code for path, code in blocks if path == "shared/components.py"]
    implementations = {path: code for path, code in blocks if path != "shared/components.py"}
    assert len(declarations) == 4
    assert sorted(implementations) == [
        "trainer/combiners/aux_weighted.py",
        "trainer/data/movielens.py",
        "trainer/encoders/cosine_mf.py",
        "trainer/tasks/vector_norm.py",
    ]
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "extending_declarations.py").write_text(
        DECLARATIONS_HEADER + "\n".join(declarations)
    )
    for path, code in implementations.items():
        (modules / path.rsplit("/", 1)[1]).write_text(code)
    data = tmp_path / "data" / "ml-100k"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = [
        (user, item, rng.integers(1, 6), 880000000 + user * 100 + item)
        for user in range(1, 31)
        for item in rng.choice(np.arange(1, 61), 12, replace=False)
    ]
    (data / "u.data").write_text("".join("\t".join(map(str, row)) + "\n" for row in rows))

    env = {
        **os.environ,
        "PMTREC_PLUGINS": "extending_declarations",
        "PYTHONPATH": os.pathsep.join([str(modules), str(REPO)]),
        "OMP_NUM_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "AuxWeighted CosineMF ['bpr', 'rating', 'vector_norm']"
    assert lines[1:] == [
        "refused: aux_weight must be >= 0, got -1.0",
        "refused: cosine_scale must be > 0, got 0.0",
        "refused: norm_weight must be >= 0, got -0.5",
    ]
