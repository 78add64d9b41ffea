"""The per-epoch log line: the epoch budget and a range for the time left (issue 18 item 3)."""

import re

from tests.trainer.test_training import make_trainer
from trainer.training.time_left import epochs_left, format_seconds, time_left


def test_epochs_left_spans_early_stop_to_budget():
    # Best at epoch 3, patience 10, budget 200: the run ends at epoch 13 at the earliest.
    assert epochs_left(5, 200, 3, 10) == (8, 195)
    # The budget caps both ends.
    assert epochs_left(195, 200, 195, 10) == (5, 5)
    assert epochs_left(200, 200, 150, 10) == (0, 0)


def test_time_left_scales_with_the_mean_epoch():
    # 5 epochs in 50 s: 10 s each.
    assert time_left(5, 200, 3, 10, 50.0) == "1m20s to 32m30s"
    assert time_left(195, 200, 195, 10, 1950.0) == "50s"
    assert format_seconds(3725) == "1h02m" and format_seconds(0.4) == "0s"


def test_epoch_lines_show_the_budget_and_the_time_left(tiny_dataset, caplog):
    with caplog.at_level("INFO", logger="trainer.training.loop"):
        make_trainer(tiny_dataset, epochs=3, patience=10).fit()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch")]
    assert [re.match(r"epoch\s+(\d+)/3 \|", line).group(1) for line in lines] == ["1", "2", "3"]
    assert all(re.search(r", left \S+", line) for line in lines)
    assert lines[-1].endswith("left 0s")
