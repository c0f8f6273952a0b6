"""A few process metrics in the Prometheus text format (no client library needed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from counterline.jobs.queries import JobCounts
from counterline.jobs.runner import JobStats
from counterline.measures import Summary
from counterline.ops.collector import Pauses


@dataclass
class Metrics:
    events_published: int = 0
    db_read: Summary = field(default_factory=Summary)
    db_write: Summary = field(default_factory=Summary)
    posts_per_commit: Summary = field(default_factory=Summary)
    # (route, answered): requests the quick routes answered or handed on (web/quick_routes)
    quick_reads: Counter[tuple[str, bool]] = field(default_factory=Counter)


def render(
    metrics: Metrics,
    *,
    fanout: Summary,
    connections: int,
    deliveries: int,
    online_users: int,
    live_healthy: bool,
) -> str:
    lines: list[str] = []

    def sample(name: str, kind: str, help_text: str, value: float) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"])

    def summary(name: str, help_text: str, observed: Summary) -> None:
        lines.extend(
            [
                f"# HELP {name} {help_text}",
                f"# TYPE {name} summary",
                f"{name}_count {observed.count}",
                f"{name}_sum {observed.total:.6f}",
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
    summary(
        "counterline_posts_per_commit",
        "Posts stored together in one transaction (group commit).",
        metrics.posts_per_commit,
    )
    lines += [
        "# HELP counterline_quick_reads_total Hot requests (reads and posts) answered before "
        "routing (answered) or handed on to their route.",
        "# TYPE counterline_quick_reads_total counter",
    ]
    for (route, answered), count in sorted(metrics.quick_reads.items()):
        flag = "true" if answered else "false"
        lines.append(f'counterline_quick_reads_total{{route="{route}",answered="{flag}"}} {count}')
    return "\n".join(lines) + "\n"


def render_jobs(stats: JobStats, counts: JobCounts) -> str:
    """The job queue: the table's states (every node sees the same) and this runner's work."""
    lines = [
        "# HELP counterline_jobs Jobs in the queue by state (waiting: due, not yet claimed).",
        "# TYPE counterline_jobs gauge",
    ]
    for state in ("waiting", "scheduled", "running", "failed"):
        lines.append(f'counterline_jobs{{state="{state}"}} {getattr(counts, state)}')
    for name, help_text, value in (
        ("succeeded", "Jobs this process ran to the end.", stats.succeeded),
        ("retried", "Failed attempts that will be tried again.", stats.retried),
        ("failed", "Jobs that failed their last attempt.", stats.failed),
    ):
        metric = f"counterline_jobs_{name}_total"
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} counter", f"{metric} {value}"]
    lines += [
        "# HELP counterline_job_seconds Time to run one job (handler and commit).",
        "# TYPE counterline_job_seconds summary",
        f"counterline_job_seconds_count {stats.run_seconds.count}",
        f"counterline_job_seconds_sum {stats.run_seconds.total:.6f}",
    ]
    return "\n".join(lines) + "\n"


def render_collector(pauses: Pauses, frozen: int) -> str:
    """Python's garbage collector in this process (ops/collector.py)."""
    lines = []
    for metric, help_text, summaries in (
        ("counterline_gc_pause_seconds", "Collector pauses (wall time).", pauses.wall),
        ("counterline_gc_cpu_seconds", "CPU time of collector pauses.", pauses.cpu),
    ):
        lines += [f"# HELP {metric} {help_text} by generation", f"# TYPE {metric} summary"]
        for generation, observed in enumerate(summaries):
            label = f'{{generation="{generation}"}}'
            lines += [
                f"{metric}_count{label} {observed.count}",
                f"{metric}_sum{label} {observed.total:.6f}",
            ]
    lines += [
        "# HELP counterline_gc_longest_pause_seconds The longest collector pause so far.",
        "# TYPE counterline_gc_longest_pause_seconds gauge",
        f"counterline_gc_longest_pause_seconds {pauses.longest:.6f}",
        "# HELP counterline_gc_frozen_objects Objects frozen out of the collector's scans.",
        "# TYPE counterline_gc_frozen_objects gauge",
        f"counterline_gc_frozen_objects {frozen}",
    ]
    return "\n".join(lines) + "\n"
