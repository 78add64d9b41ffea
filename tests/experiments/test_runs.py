"""Runs: reproducible under a seed, the same in a spawned worker, keyed by their config."""

from dataclasses import replace

from trainer.experiments import InMemoryDataset
from trainer.experiments.__main__ import main
from trainer.experiments.runs import RunExecutor, RunStore, run_key, train_and_test
from trainer.training import TrainConfig

CONFIG = TrainConfig(
    method="pmtrec",
    alpha=1.02,
    tau=0.01,
    auxiliary_tasks=("align_uniform", "rating"),
    batch_size=64,
    epochs=3,
    device="cpu",
)


def test_the_same_seed_gives_the_same_numbers(tiny_dataset):
    first, second = train_and_test(tiny_dataset, CONFIG), train_and_test(tiny_dataset, CONFIG)
    for field in ("val", "test", "curve", "best_epoch"):
        assert first[field] == second[field], field
    other = train_and_test(tiny_dataset, replace(CONFIG, seed=1))
    assert other["curve"] != first["curve"]


def test_a_spawned_worker_reproduces_the_in_process_run(tmp_path, tiny_dataset):
    source = InMemoryDataset(tiny_dataset)
    spawned = RunExecutor(source, RunStore(tmp_path / "a.jsonl"), workers=1, progress=print)
    (record,) = spawned.run([CONFIG])
    local = train_and_test(tiny_dataset, CONFIG)
    assert record["test"] == local["test"] and record["curve"] == local["curve"]
    assert RunStore(tmp_path / "a.jsonl").get(run_key("tiny", CONFIG))["test"] == local["test"]


def test_the_key_covers_dataset_and_every_hyperparameter():
    assert run_key("tiny", CONFIG) != run_key("office", CONFIG)
    assert run_key("tiny", CONFIG) != run_key("tiny", replace(CONFIG, seed=1))
    assert run_key("tiny", CONFIG) != run_key("tiny", replace(CONFIG, epochs=4))
    assert run_key("tiny", CONFIG) == run_key("tiny", CONFIG.hyperparameters())


def test_bad_command_line_input_exits_with_status_2(tmp_path, capsys):
    assert main(["table2", "--budget", "0", "--out", str(tmp_path)]) == 2
    assert main(["table2", "--methods", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown methods" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
