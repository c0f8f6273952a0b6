"""A CSV import of 2,000 users (argon2 hashing included) while one room's live delivery is
measured, as one_room measures it: an open-loop sender posts into a topic room of 50
listeners at ``--rate`` messages/s (latency: post written -> each listener's receipt).
First without the import (the baseline, same run and server), then for as long as the
import runs (target: delivery p99 < 50 ms while it runs). The import goes through the API
an administrator's page uses (``POST /api/v1/admin/users/import``) and its progress is
polled as the page polls it; the import time is from the answer to the last row done.

    .venv/bin/python -m bench.user_import            # full: 2,000 users
    .venv/bin/python -m bench.user_import --short    # CI: 40 users
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import httpx

from bench.fanout import Session, Step, fanout_arguments, prepared
from bench.harness import emit_json, header, report
from bench.one_room import LISTENERS, ROOM, listeners
from bench.seed import Shape
from bench.sender import score

TARGET_P99_MS = 50.0
BRANCH = "导入营业厅"


def users_csv(count: int) -> bytes:
    """``count`` clerks of a new branch, Chinese headers, as Excel saves UTF-8 (with BOM)."""
    lines = ["用户名,姓名,营业厅,角色"]
    lines += [f"import{n:05d},导入员工{n},{BRANCH},柜员" for n in range(count)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


class ImportWatch:
    """Starts the import and polls its status (every 0.2 s, in a thread) until it ends."""

    def __init__(self, url: str, token: str, data: bytes) -> None:
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.data = data
        self.status: dict[str, Any] = {}
        self.started = self.ended = 0.0
        self.polls = 0
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> None:
        self.started = time.monotonic()
        response = self.client.post(
            "/api/v1/admin/users/import",
            params={"create_branches": "true"},
            content=self.data,
            headers={"Content-Type": "text/csv"},
        )
        response.raise_for_status()
        self.status = response.json()
        self.thread.start()

    def _poll(self) -> None:
        while self.status.get("state") == "running":
            time.sleep(0.2)
            self.status = self.client.get(f"/api/v1/admin/users/import/{self.status['id']}").json()
            self.polls += 1
        self.ended = time.monotonic()

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def close(self) -> None:
        self.thread.join(timeout=600)
        self.client.close()


def main() -> None:
    parser = fanout_arguments(__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=2000, help="users in the CSV file")
    parser.add_argument("--rate", type=float, default=20.0, help="posts/s into the room")
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--step", type=float, default=5.0, help="seconds per measured step")
    parser.set_defaults(processes=1, targets="counterline")
    args = parser.parse_args()
    if args.short:
        args.users, args.baseline_seconds, args.step = 40, 2.0, 1.0
    shape = Shape(3, 20, topic_rooms=((ROOM, LISTENERS),))
    header(f"user import: {args.users} users while one room of {LISTENERS} listens")
    failures: list[str] = []
    with (
        prepared(args, "user-import", shape) as (run_dir, provisioned),
        Session(args, run_dir, provisioned, "counterline", listeners) as session,
    ):
        streams = [(args.rate, [session.audience.company])]
        baseline = session.run(Step(args.baseline_seconds, streams))
        watch = ImportWatch(
            session.servers[0].url, provisioned.manifest.admin.token, users_csv(args.users)
        )
        watch.start()
        during: list[Step] = []
        try:
            while watch.running:
                during.append(session.run(Step(args.step, streams)))
        finally:
            watch.close()
        assert session.receipts is not None
        posts = [post for step in during for post in step.posts]
        overall = score(posts, session.receipts, session.audience.recipients).summary()
    status = watch.status
    seconds = watch.ended - watch.started
    base, load = baseline.figures["latency"], overall["latency"]
    met = load["p99_ms"] < TARGET_P99_MS
    for label, figures in (("baseline", baseline.figures), ("during import", overall)):
        if figures["lost"] or figures["duplicated"] or figures["unexpected"]:
            failures.append(label)
        if figures["failed_posts"]:
            failures.append(f"{label}: failed posts")
    if status.get("state") != "done" or status.get("created") != args.users:
        failures.append(f"import ended {status.get('state')} with {status.get('created')} users")
    report(
        [
            (
                "import",
                f"{status.get('created')} of {args.users} users in {seconds:.1f} s "
                f"({status.get('created', 0) / max(seconds, 0.001):.0f} users/s, "
                f"{watch.polls} progress polls)",
            ),
            (
                f"baseline @{args.rate:g}/s: delivery",
                f"p50 {base['p50_ms']} ms, p99 {base['p99_ms']} ms "
                f"({base['count']} deliveries in {args.baseline_seconds:g} s)",
            ),
            (
                f"during import @{args.rate:g}/s: delivery",
                f"p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms "
                f"({load['count']} deliveries in {len(during)} steps) "
                f"(target p99 < {TARGET_P99_MS:g} ms: {'met' if met else 'MISSED'})",
            ),
            (
                "during import: lost / duplicated / unexpected",
                f"{overall['lost']} lost / {overall['duplicated']} duplicated / "
                f"{overall['unexpected']} unexpected",
            ),
        ]
    )
    emit_json(
        "user_import",
        {
            "users": args.users,
            "created": status.get("created"),
            "import_seconds": round(seconds, 2),
            "baseline": baseline.figures,
            "during_import": overall,
            "steps_during_import": len(during),
            "target_p99_ms": TARGET_P99_MS,
            "target_met": met,
        },
    )
    if failures:
        print(f"FAILED: {failures}")
        sys.exit(1)


if __name__ == "__main__":
    main()
