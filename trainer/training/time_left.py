"""How long a run may still take, for the per-epoch log line: early stopping makes the end
uncertain, so the estimate is a range."""

from __future__ import annotations


def epochs_left(epoch: int, budget: int, best: int, patience: int) -> tuple[int, int]:
    """(fewest, most) epochs still to run after ``epoch``.

    The fewest: no further improvement, so early stopping ends the run ``patience`` epochs
    after the best one. The most: every epoch of the budget.
    """
    most = max(0, budget - epoch)
    return min(most, max(0, best + patience - epoch)), most


def format_seconds(seconds: float) -> str:
    """A short human duration: 45s, 7m05s, 1h02m."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def time_left(epoch: int, budget: int, best: int, patience: int, elapsed: float) -> str:
    """'7m05s' or '1m10s to 7m05s' left, from the mean time of the epochs run so far."""
    fewest, most = epochs_left(epoch, budget, best, patience)
    per_epoch = elapsed / max(epoch, 1)
    if fewest == most:
        return format_seconds(most * per_epoch)
    return f"{format_seconds(fewest * per_epoch)} to {format_seconds(most * per_epoch)}"
