"""Prometheus metrics, kept in a registry per application (tests build many apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
AUDIO_BUCKETS = (1.0, 3.0, 10.0, 30.0, 60.0, 120.0, 240.0, 480.0, 900.0)


class Metrics:
    """Request, inference and audio metrics; ``songid_`` prefixed."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.requests = Counter(
            "songid_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "songid_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status code.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "songid_http_requests_in_flight", "HTTP requests being handled now.", registry=self.registry
        )
        self.predictions_in_flight = Gauge(
            "songid_predictions_in_flight",
            "Predictions holding a concurrency slot (upload, decode or inference).",
            registry=self.registry,
        )
        self.predictions_queued = Gauge(
            "songid_predictions_queued",
            "Predictions waiting for a concurrency slot (SONGID_MAX_QUEUED_REQUESTS).",
            registry=self.registry,
        )
        self.rejected = Counter(
            "songid_predictions_rejected",
            "Predictions refused before analysis, by reason (overloaded, not_ready).",
            ["reason"],
            registry=self.registry,
        )
        self.decode_seconds = Histogram(
            "songid_decode_seconds",
            "Time to decode, resample and compute the log-mel of one upload.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.inference_seconds = Histogram(
            "songid_inference_seconds",
            "ONNX Runtime time for all segments of one upload.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "songid_decisions",
            "Song-level decisions, by task and status (known, unknown, no_evidence).",
            ["task", "status"],
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "songid_audio_seconds_analysed",
            "Seconds of audio analysed, in total.",
            registry=self.registry,
        )
        self.audio_duration = Histogram(
            "songid_audio_duration_seconds",
            "Seconds of audio analysed per prediction.",
            buckets=AUDIO_BUCKETS,
            registry=self.registry,
        )

        self.gallery_unavailable = Counter(
            "songid_gallery_unavailable",
            "Calls to the artist gallery's database that found it unavailable (down, unreadable, read-only).",
            registry=self.registry,
        )
        self.gallery_stale = Gauge(
            "songid_gallery_stale",
            "1 while the gallery's database cannot be used and predictions use the gallery loaded last; "
            "else 0.",
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        labels = {"route": route, "method": method, "status": str(status)}
        self.requests.labels(**labels).inc()
        self.request_seconds.labels(**labels).observe(seconds)

    def observe_analysis(self, *, decode_s: float, inference_s: float | None, audio_s: float) -> None:
        """``inference_s`` is None when the network was not asked (no evidence)."""
        self.decode_seconds.observe(decode_s)
        if inference_s is not None:
            self.inference_seconds.observe(inference_s)
        self.audio_seconds.inc(audio_s)
        self.audio_duration.observe(audio_s)

    def render(self) -> bytes:
        return generate_latest(self.registry)
