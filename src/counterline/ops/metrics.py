"""A few process metrics in the Prometheus text format (no client library needed)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Timing:
    """A Prometheus summary without quantiles: count and sum of seconds."""

    count: int = 0
    seconds: float = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds


@dataclass
class Metrics:
    events_published: int = 0
    db_read: Timing = field(default_factory=Timing)
    db_write: Timing = field(default_factory=Timing)


def render(
    metrics: Metrics,
    *,
    fanout: Timing,
    connections: int,
    deliveries: int,
    online_users: int,
    live_healthy: bool,
) -> str:
    lines: list[str] = []

    def sample(name: str, kind: str, help_text: str, value: float) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"])

    def summary(name: str, help_text: str, timing: Timing) -> None:
        lines.extend(
            [
                f"# HELP {name} {help_text}",
                f"# TYPE {name} summary",
                f"{name}_count {timing.count}",
                f"{name}_sum {timing.seconds:.6f}",
            ]
        )

    sample("counterline_websocket_connections", "gauge", "Open WebSocket streams.", connections)
    sample("counterline_online_users", "gauge", "Users online on any node.", online_users)
    sample(
        "counterline_live_updates_healthy",
        "gauge",
        "1 when live fan-out works (Redis reachable or not needed).",
        int(live_healthy),
    )
    sample(
        "counterline_events_published_total",
        "counter",
        "Events published after commit by this process.",
        metrics.events_published,
    )
    sample("counterline_deliveries_total", "counter", "Frames queued to local sockets.", deliveries)
    summary("counterline_fanout_seconds", "Time to fan one event out to local sockets.", fanout)
    summary("counterline_db_read_seconds", "Read transactions.", metrics.db_read)
    summary("counterline_db_write_seconds", "Write transactions (until commit).", metrics.db_write)
    return "\n".join(lines) + "\n"
