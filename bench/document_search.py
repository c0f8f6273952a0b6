"""Search's first page with and without its documents (issue 12): 1,000 notices of six
business words each (a fifth to one branch, the rest to the other) and 100 FAQ entries,
published and written through the app's actions; then a clerk of the first branch and an
administrator (who sees every notice) run the same queries through ``search.actions.search``
in-process, each page timed with its documents and again with none registered, interleaved
(same run, same database). Figures: p50 wall time and process CPU per page (aiosqlite's
thread included), and the difference the documents make.

    .venv/bin/python -m bench.document_search              # 1,000 notices, 100 FAQ entries
    .venv/bin/python -m bench.document_search --database-url \\
        postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python -m bench.document_search --short      # CI: 100 notices, 20 entries
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.fanout import prepared
from bench.harness import arguments, emit_json, header, latency_summary, report
from bench.seed import Shape
from counterline.accounts.actions import get_user_named
from counterline.accounts.models import User
from counterline.config import Settings
from counterline.faq.actions import write_entry
from counterline.faq.schemas import FaqEntryIn
from counterline.notices.actions import publish
from counterline.notices.schemas import NoticeIn
from counterline.search import actions, documents
from counterline.services import Services

WORDS = (
    *("宽带", "身份证", "移机", "携号转网", "机顶盒", "资费", "过户", "销户", "补卡", "实名"),
    *("套餐", "光猫", "积分", "发票", "押金", "预存", "停机", "复机", "副卡", "流量"),
)
QUERIES = ("宽带", "身份证 移机", "携号转网")
WORDS_PER_DOCUMENT = 6
SHARE_OF_FIRST_BRANCH = 0.2
CLIENT_IP = "127.0.0.1"


def text_of(rng: random.Random, number: int) -> str:
    words = rng.sample(WORDS, WORDS_PER_DOCUMENT)
    return f"第{number}号通知：" + "，".join(f"办理{word}时请核对" for word in words) + "。"


async def fill(services: Services, notices: int, entries: int) -> dict[str, int]:
    """The notices (a fifth to the first branch) and FAQ entries, by the administrator."""
    rng = random.Random(12)
    due = datetime.now(UTC) + timedelta(days=30)
    async with services.reading() as unit:
        admin = await get_user_named(unit, "benchadmin")
        branches = {
            name: (await get_user_named(unit, name)).branch_id for name in ("b001c01", "b002c01")
        }
    for number in range(notices):
        first = number < notices * SHARE_OF_FIRST_BRANCH
        branch = branches["b001c01" if first else "b002c01"]
        new = NoticeIn.model_validate(
            {
                "title": f"业务通知 {number}",
                "body": text_of(rng, number),
                "audience": {"branch_ids": [branch]},
                "due_at": due.isoformat(),
            }
        )
        async with services.transaction() as unit:
            await publish(unit, admin, new, client_ip=CLIENT_IP)
    for number in range(entries):
        entry = FaqEntryIn(topic="业务", question=f"问题{number}", answer=text_of(rng, number))
        async with services.transaction() as unit:
            await write_entry(unit, admin, entry, client_ip=CLIENT_IP)
    return {"notices": notices, "faq_entries": entries}


@contextmanager
def no_documents() -> Iterator[None]:
    """Search with no kind of document registered: the page's messages part alone."""
    registered = dict(documents._sources)
    documents._sources.clear()
    try:
        yield
    finally:
        documents._sources.update(registered)


class Timings:
    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.listed: list[int] = []

    def summary(self) -> dict[str, Any]:
        cpu = sorted(self.cpu)
        return {
            "p50_ms": latency_summary(self.wall)["p50_ms"],
            "cpu_p50_ms": round(cpu[len(cpu) // 2] * 1000, 2),
            "documents": max(self.listed),
        }


async def page(services: Services, viewer: User, query: actions.SearchQuery, into: Timings) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    async with services.reading() as unit:
        found = await actions.search(unit, viewer, query)
    into.cpu.append(time.process_time() - cpu)
    into.wall.append(time.perf_counter() - wall)
    into.listed.append(len(found.documents or []))


async def measure(services: Services, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in ("b001c01", "benchadmin"):
        async with services.reading() as unit:
            viewer = await get_user_named(unit, name)
        for words in QUERIES:
            query = actions.SearchQuery(zone=services.settings.zone, q=words)
            with_documents, without = Timings(), Timings()
            for _ in range(3):  # warm up both
                await page(services, viewer, query, Timings())
                with no_documents():
                    await page(services, viewer, query, Timings())
            for _ in range(repeat):
                await page(services, viewer, query, with_documents)
                with no_documents():
                    await page(services, viewer, query, without)
            results[f"{name} {words}"] = {
                "with": with_documents.summary(),
                "without": without.summary(),
            }
    return results


async def run(url: str, notices: int, entries: int, repeat: int) -> dict[str, Any]:
    services = Services.from_settings(Settings(database_url=url))
    try:
        started = time.perf_counter()
        filled = await fill(services, notices, entries)
        filled["fill_s"] = round(time.perf_counter() - started, 1)
        return {**filled, "pages": await measure(services, repeat)}
    finally:
        await services.database.dispose()


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--notices", type=int, default=1_000)
    parser.add_argument("--faq", type=int, default=100, help="FAQ entries")
    parser.add_argument("--repeat", type=int, default=30, help="pages timed per cell and way")
    args = parser.parse_args()
    if args.short:
        args.notices, args.faq, args.repeat = 100, 20, 5
    header(
        f"document_search: a search's first page with and without {args.notices:,} notices "
        f"and {args.faq:,} FAQ entries"
    )
    with prepared(args, "document_search", Shape(2, 5)) as (_, provisioned):
        results = asyncio.run(run(provisioned.database_url, args.notices, args.faq, args.repeat))
    rows = [("filled", f"{results['notices']:,} notices, {results['faq_entries']:,} FAQ entries")]
    for key, cell in results["pages"].items():
        with_documents, without = cell["with"], cell["without"]
        added = round(with_documents["cpu_p50_ms"] - without["cpu_p50_ms"], 2)
        cell["documents_add_cpu_ms"] = added
        rows.append(
            (
                key,
                f"with documents p50 {with_documents['p50_ms']} ms (CPU "
                f"{with_documents['cpu_p50_ms']} ms, {with_documents['documents']} listed); "
                f"without p50 {without['p50_ms']} ms (CPU {without['cpu_p50_ms']} ms); "
                f"documents add {added} ms CPU",
            )
        )
    report(rows)
    emit_json("document_search", results)


if __name__ == "__main__":
    main()
