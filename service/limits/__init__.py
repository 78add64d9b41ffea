"""Bounds on the work one request can cause: body size, k, batch size, list lengths."""

from service.limits.body_size import RequestBodyLimit, RequestBodyTooLarge
from service.limits.recommend_bounds import check_batch, check_query

__all__ = ["RequestBodyLimit", "RequestBodyTooLarge", "check_batch", "check_query"]
