"""Prometheus metrics, correct when ``backup-codes serve`` runs several worker processes.

``serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before this module is first imported, so prometheus_client
keeps every value in a memory-mapped file per process and :func:`render` sums them across workers.
Without that variable (tests, a single in-process app) the default registry is used. Labels are route
templates (``/v1/realms/<realm>/…``), never concrete user ids, so cardinality stays bounded.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("backup_codes_http_requests_total", "HTTP requests served", ["method", "route", "status"])
LATENCY = Histogram(
    "backup_codes_http_request_duration_seconds",
    "HTTP request duration",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
VERIFICATIONS = Counter("backup_codes_verifications_total", "Code verifications by outcome", ["reason"])
SETS_ISSUED = Counter("backup_codes_sets_issued_total", "Code sets issued (first or regenerated)")
AUTH_FAILURES = Counter(
    "backup_codes_api_auth_failures_total", "Requests refused for a missing or bad API key"
)
# A realm key used on another realm: a Keycloak given the wrong realm's key, or a key being misused.
SCOPE_REFUSALS = Counter(
    "backup_codes_api_scope_refusals_total", "Requests refused because the API key is not for that realm"
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def render() -> tuple[bytes, str]:
    """The exposition text and its content type, summed over all worker processes when there are several."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def worker_exited(pid: int) -> None:
    """Called by the serve supervisor when a worker dies, so its live gauges stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
