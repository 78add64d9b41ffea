"""The service's Prometheus metrics, in a registry of their own (one per app, not global)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Seconds; fine-grained below 25 ms, where the service is expected to answer.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)


class _ActiveModelCollector(Collector):
    """Reads the serving version at scrape time, so a swap needs no bookkeeping."""

    def __init__(self, active_version: Callable[[], str | None]) -> None:
        self._active_version = active_version

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "pmtrec_active_model_info",
            "The model version this process serves (value 1).",
            labels=["model_version"],
        )
        version = self._active_version()
        if version is not None:
            family.add_metric([version], 1.0)
        yield family
        yield GaugeMetricFamily(
            "pmtrec_model_loaded",
            "1 when a model is loaded, else 0.",
            value=0.0 if version is None else 1.0,
        )


class ServiceMetrics:
    """Request counts and latencies per route, and the active model version."""

    def __init__(self, active_version: Callable[[], str | None]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "pmtrec_http_requests_total",
            "HTTP requests by route, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pmtrec_http_request_duration_seconds",
            "HTTP request latency by route and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_ActiveModelCollector(active_version))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
