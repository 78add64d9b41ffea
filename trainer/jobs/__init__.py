"""Jobs run by workers (``python -m trainer.worker``): training and evaluation.

The queue lives in the database (``shared.db.job_queue``); the API only writes job rows.
"""

from trainer.jobs.context import JobCancelled, JobContext, JobFailure
from trainer.jobs.runner import HANDLERS, Worker, new_worker_id

__all__ = ["HANDLERS", "JobCancelled", "JobContext", "JobFailure", "Worker", "new_worker_id"]
