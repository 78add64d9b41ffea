"""Activation after a retrain, guarded: the new version serves only if its validation metric
is not worse than the active version's (unless the guard is off).

The worker records the switch in the database (one transaction with the job's results); API
processes follow the active version by polling (``ModelRegistry.sync_active``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shared.db import ModelVersion
from shared.db.versions import active_version, switch_active

# The validation metric the trainer early-stops on (TrainConfig.monitor; fixed for retrains).
GUARD_METRIC = "recall@20"


def _val_metric(version: ModelVersion) -> float | None:
    value = (version.metrics or {}).get("val", {}).get(GUARD_METRIC)
    return float(value) if isinstance(value, (int, float)) else None


def activation_decision(
    candidate: ModelVersion, active: ModelVersion | None, guard: bool
) -> tuple[bool, str]:
    """Whether ``candidate`` may replace ``active``, and why."""
    if active is None:
        return True, "no version was active"
    if active.id == candidate.id:
        return True, "already active"
    if not guard:
        return True, "activation guard off"
    new, old = _val_metric(candidate), _val_metric(active)
    if active.dataset != candidate.dataset:
        return False, (
            f"the active version {active.id} is a model of dataset '{active.dataset}', not "
            f"'{candidate.dataset}': validation metrics do not compare (retrain with "
            '"activation_guard": false to switch datasets)'
        )
    if old is None:
        return False, (
            f"the active version {active.id} has no validation {GUARD_METRIC} to compare with "
            '(retrain with "activation_guard": false, or use POST /models/{id}/activate)'
        )
    if new is None:
        return False, f"the new version has no validation {GUARD_METRIC}"
    if new < old:
        return False, (
            f"validation {GUARD_METRIC} {new:.4f} is worse than the active version "
            f"{active.id}'s {old:.4f}"
        )
    return True, f"validation {GUARD_METRIC} {new:.4f} is not worse than {old:.4f} ({active.id})"


def activate_if_allowed(session: Session, candidate: ModelVersion, guard: bool) -> dict[str, Any]:
    """Decide and, if allowed, switch the active version in ``session``'s transaction (the
    active row is locked meanwhile on PostgreSQL). Returns what happened, for the job result."""
    active = active_version(session, for_update=True)
    allowed, reason = activation_decision(candidate, active, guard)
    if allowed:
        switch_active(session, candidate.id)
    return {
        "requested": True,
        "guard": guard,
        "activated": allowed,
        "reason": reason,
        "previous_version": active.id if active is not None else None,
        "metric": f"val {GUARD_METRIC}",
        "value": _val_metric(candidate),
        "previous_value": _val_metric(active) if active is not None else None,
    }
