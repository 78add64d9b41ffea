"""Early stopping as a small pure function over the validation history."""

from __future__ import annotations


def best_epoch(history: list[float]) -> int:
    """1-based epoch of the best (highest) value; the earliest one on ties."""
    if not history:
        raise ValueError("no epochs evaluated yet")
    return max(range(len(history)), key=lambda i: (history[i], -i)) + 1


def should_stop(history: list[float], patience: int) -> bool:
    """True when the last ``patience`` epochs brought no improvement over the best."""
    return len(history) - best_epoch(history) >= patience
