"""What `GET /metrics` reports, in the Prometheus text format, for this one process.

Hot paths pay for histograms only: one observation per HTTP request, per committed writer
batch and per processed file, kept here (`Buckets`) and written out in the text format by
prometheus-client at scrape. Everything else — sockets open, the writer's queue, how far
live delivery is behind the database, the bus's reconnects and gap fills, webhook outcomes —
is a number some part already keeps, read when Prometheus scrapes.

Not reported yet, because the parts do not exist yet: the job queue (depth, failures) and
push notifications; S3 comes with its blob store.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from darbuka.bus import Handlers
from darbuka.stream import Ephemeral, Event

if TYPE_CHECKING:
    from darbuka.botapi import WebhookSender
    from darbuka.container import Runtime
    from darbuka.gateway.socket import Gateway

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Long polls wait up to 60 s: the buckets reach that far.
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                30.0, 60.0)
BATCH_BUCKETS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0)
MEDIA_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


class Buckets:
    """One histogram series, without locks: this process's event loop is its only writer
    (requests, batches and files are all counted there, and scrapes are read there). An
    observation is a bisection and two additions, a tenth of the library's locked one."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1  # `le` bounds are inclusive
        self.sum += value

    def cumulative(self) -> list[tuple[str, float]]:
        found: list[tuple[str, float]] = []
        total = 0
        for bound, count in zip((*map(str, self.bounds), "+Inf"), self.counts, strict=True):
            total += count
            found.append((bound, total))
        return found


class Metrics:
    """The figures of one process (a registry of its own, not the library's global one:
    tests run several apps in one process)."""

    def __init__(self, runtime: Runtime, gateway: Gateway, webhooks: WebhookSender) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        # (method, route template) → its series; found per request through `_by_route`.
        self.http: dict[tuple[str, str], Buckets] = {}
        self.batches = Buckets(BATCH_BUCKETS)
        self.media: dict[str, Buckets] = {}
        runtime.writer.on_batch = self.batches.observe
        runtime.services.media.on_processed = self._processed
        self._runtime = runtime
        self._live = _Live(runtime, gateway, webhooks, self)
        self.registry.register(self._live)
        runtime.bus.subscribe(Handlers(events=self._live.seen, ephemeral=_ignore))
        # The route object's id → method → its series: no label building per request.
        self._by_route: dict[int, dict[str, Buckets]] = {}

    async def start(self) -> None:
        """Live delivery's lag is counted from here."""
        await self._read_head()
        self._live.delivered_pos = max(self._live.delivered_pos, self._live.head)

    async def render(self) -> bytes:
        await self._read_head()
        return generate_latest(self.registry)

    def observe(self, scope: MutableMapping[str, Any], seconds: float) -> None:
        """One HTTP request done; `scope` holds the route the router matched."""
        route = scope.get("route")
        by_method = self._by_route.get(id(route))
        if by_method is None:
            by_method = self._by_route[id(route)] = {}
        method = scope["method"]
        series = by_method.get(method)
        if series is None:
            key = (method if method in METHODS else "other", _template(route, scope))
            series = by_method[method] = self.http.setdefault(key, Buckets(HTTP_BUCKETS))
        series.observe(seconds)

    def _processed(self, kind: str, seconds: float) -> None:
        series = self.media.get(kind)
        if series is None:
            series = self.media[kind] = Buckets(MEDIA_BUCKETS)
        series.observe(seconds)

    async def _read_head(self) -> None:
        runtime = self._runtime
        async with runtime.db.read() as conn:
            self._live.head = await runtime.stores.events.head(conn)


def _template(route: Any, scope: MutableMapping[str, Any]) -> str:
    """The route's template (`/api/v1/chats/{chat_id}`), never the raw path: one series per
    route, however many ids. A route inside a mount (the Bot API) gets the mount's prefix."""
    if route is None:
        return "unmatched"  # the web client's files, and addresses nothing serves
    path = getattr(route, "path", "")
    if hasattr(route, "routes"):  # a mount none of whose routes matched
        return path + "/*"
    return str(scope.get("root_path", "")) + path


def _ignore(_notice: Ephemeral) -> None:
    return None


class _Live:
    """Figures read at scrape time from the parts that keep them."""

    def __init__(self, runtime: Runtime, gateway: Gateway, webhooks: WebhookSender,
                 metrics: Metrics) -> None:
        self._runtime = runtime
        self._gateway = gateway
        self._webhooks = webhooks
        self._metrics = metrics
        self.head = 0
        self.delivered_pos = 0

    def seen(self, events: list[Event]) -> None:
        """The bus handed this process these events (in position order)."""
        self.delivered_pos = max(self.delivered_pos, events[-1].pos)

    def collect(self) -> Iterator[Metric]:
        yield from self._histograms()
        runtime, gateway, bus = self._runtime, self._gateway, self._runtime.bus
        yield _gauge("darbuka_sockets_open", "Signed-in WebSockets on this process.",
                     len(gateway.connections))
        yield _gauge("darbuka_live_sinks", "Sockets and long polls waiting for live events.",
                     runtime.hub.sink_count)
        yield _gauge("darbuka_writer_queue_depth", "Writes waiting for a transaction.",
                     runtime.writer.queue_depth)
        yield _counter("darbuka_writer_commits", "Write transactions committed, of every "
                       "kind (batches and single writes).", runtime.writer.commits)
        yield _gauge("darbuka_event_lag_positions",
                     "Stream positions committed in the database that live delivery on this "
                     "process has not been handed yet.",
                     max(0, self.head - self.delivered_pos))
        yield _gauge("darbuka_bus_lag_seconds",
                     "How long live delivery has waited on a missing position (0: none).",
                     bus.lag_s)
        yield _counter("darbuka_bus_reconnects", "Times the bus lost Redis and came back.",
                       bus.reconnects)
        yield _counter("darbuka_bus_gap_fills", "Gaps in live positions filled from storage.",
                       bus.gap_fills)
        yield _counter("darbuka_events_delivered", "Events pushed to sockets and long polls.",
                       runtime.hub.delivered)
        yield _counter("darbuka_socket_overflows",
                       "Sockets cut off because they stopped reading (they resume).",
                       gateway.overflows)
        outcomes = CounterMetricFamily("darbuka_webhook_outcomes",
                                       "Bot webhook deliveries by outcome (every failed POST, "
                                       "retries too; dropped: too old to retry).",
                                       labels=["outcome"])
        hooks = self._webhooks
        for outcome, count in (("delivered", hooks.delivered), ("failed", hooks.failed),
                               ("dropped", hooks.dropped)):
            outcomes.add_metric([outcome], count)
        yield outcomes


    def _histograms(self) -> Iterator[Metric]:
        metrics = self._metrics
        http = HistogramMetricFamily("darbuka_http_request_duration_seconds",
                                     "HTTP requests by route template, from the first byte "
                                     "in to the last out.", labels=["method", "route"])
        for labels, series in sorted(metrics.http.items()):
            http.add_metric(list(labels), series.cumulative(), series.sum)
        yield http
        batches = HistogramMetricFamily("darbuka_writer_batch_size",
                                        "Items committed together in one writer transaction.")
        batches.add_metric([], metrics.batches.cumulative(), metrics.batches.sum)
        yield batches
        media = HistogramMetricFamily("darbuka_media_processing_seconds",
                                      "Processing one uploaded file into its variants, by "
                                      "kind.", labels=["kind"])
        for kind, series in sorted(metrics.media.items()):
            media.add_metric([kind], series.cumulative(), series.sum)
        yield media


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)
