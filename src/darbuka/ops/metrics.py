"""What `GET /metrics` reports, in the Prometheus text format, for this one process.

Hot paths pay for histograms only: one observation per HTTP request, per committed writer
batch and per processed file. Everything else — sockets open, the writer's queue, how far
live delivery is behind the database, the bus's reconnects and gap fills, webhook outcomes —
is a number some part already keeps, read when Prometheus scrapes.

Not reported yet, because the parts do not exist yet: the job queue (depth, failures) and
push notifications; S3 comes with its blob store.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

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
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
MEDIA_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


class Metrics:
    """The registry of one process (not the library's global one: tests run several apps
    in one process), its histograms, and the collector of everything read at scrape."""

    def __init__(self, runtime: Runtime, gateway: Gateway, webhooks: WebhookSender) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.http = Histogram("darbuka_http_request_duration_seconds",
                              "HTTP requests by route template, from the first byte in to "
                              "the last out.", ["method", "route"], buckets=HTTP_BUCKETS,
                              registry=self.registry)
        batches = Histogram("darbuka_writer_batch_size",
                            "Items committed together in one writer transaction.",
                            buckets=BATCH_BUCKETS, registry=self.registry)
        media = Histogram("darbuka_media_processing_seconds",
                          "Processing one uploaded file into its variants, by kind.",
                          ["kind"], buckets=MEDIA_BUCKETS, registry=self.registry)
        runtime.writer.on_batch = batches.observe
        runtime.services.media.on_processed = lambda kind, s: media.labels(kind).observe(s)
        self._runtime = runtime
        self._live = _Live(runtime, gateway, webhooks)
        self.registry.register(self._live)
        runtime.bus.subscribe(Handlers(events=self._live.seen, ephemeral=_ignore))
        # (route object's id, method) → the histogram's child: no label lookup per request.
        self._children: dict[int, dict[str, Any]] = {}

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
        by_method = self._children.get(id(route))
        if by_method is None:
            by_method = self._children[id(route)] = {}
        method = scope["method"]
        child = by_method.get(method)
        if child is None:
            child = by_method[method] = self.http.labels(
                method if method in METHODS else "other", _template(route, scope))
        child.observe(seconds)

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

    def __init__(self, runtime: Runtime, gateway: Gateway, webhooks: WebhookSender) -> None:
        self._runtime = runtime
        self._gateway = gateway
        self._webhooks = webhooks
        self.head = 0
        self.delivered_pos = 0

    def seen(self, events: list[Event]) -> None:
        """The bus handed this process these events (in position order)."""
        self.delivered_pos = max(self.delivered_pos, events[-1].pos)

    def collect(self) -> Iterator[Metric]:
        runtime, gateway, bus = self._runtime, self._gateway, self._runtime.bus
        yield _gauge("darbuka_sockets_open", "Signed-in WebSockets on this process.",
                     len(gateway.connections))
        yield _gauge("darbuka_live_sinks", "Sockets and long polls waiting for live events.",
                     runtime.hub.sink_count)
        yield _gauge("darbuka_writer_queue_depth", "Writes waiting for a transaction.",
                     runtime.writer.queue_depth)
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


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)
