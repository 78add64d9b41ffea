"""Prometheus metrics of the service."""

from service.observability.metrics import ServiceMetrics
from service.observability.middleware import PrometheusMiddleware

__all__ = ["PrometheusMiddleware", "ServiceMetrics"]
