"""Errors of the database layer that callers turn into answers (HTTP codes, job errors)."""

from __future__ import annotations


class UnknownModelVersionError(LookupError):
    """The model version is not registered."""


class ModelVersionConflictError(Exception):
    """The request conflicts with the registry's state (e.g. a version id taken by another path)."""


class UnknownJobError(LookupError):
    """No job has this id."""


class LostJobError(Exception):
    """A worker's claim on a job is gone: the job was reaped (its heartbeats stopped) and
    re-queued or failed, so that worker must not write its results."""


class JobNotCancellableError(Exception):
    """The job already finished (succeeded, failed or cancelled): there is nothing to stop."""
