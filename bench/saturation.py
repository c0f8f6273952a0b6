"""Saturation: the branch-day audience (1,000 clerks, company + branch rooms), with the
message rate raised step by step (90% into branch rooms, 10% into the company room)
until delivery p99 passes 250 ms, messages are lost or the server starts refusing
posts as busy (429). Reports the highest sustained rate
(p99 <= 250 ms, nothing lost or duplicated), for Counterline and for the bare
``websockets`` baseline in the same run.

    .venv/bin/python -m bench.saturation            # full: 1,000 clients, 15 s steps
    .venv/bin/python -m bench.saturation --short    # CI: 100 clients, two 1.5 s steps
"""

from __future__ import annotations

import sys
from typing import Any

from bench.fanout import Session, Step, fanout_arguments, prepared, targets
from bench.harness import emit_json, header, report

LIMIT_MS = 250.0


def ladder(start: float, factor: float, top: float) -> list[float]:
    rates = []
    rate = start
    while rate <= top:
        rates.append(round(rate))
        rate *= factor
    return rates


def main() -> None:
    parser = fanout_arguments(__doc__.split("\n")[0])
    parser.add_argument("--start-rate", type=float, default=10.0)
    parser.add_argument("--factor", type=float, default=1.5)
    parser.add_argument("--max-rate", type=float, default=2000.0)
    parser.add_argument("--step", type=float, default=15.0, help="seconds per rate")
    args = parser.parse_args()
    if args.short:
        args.branches, args.clerks, args.processes = 5, 20, 2
        args.start_rate, args.factor, args.max_rate, args.step = 20.0, 2.0, 40.0, 1.5
    header("saturation: highest sustained message rate with p99 <= 250 ms")
    results: dict[str, Any] = {}
    broken = []
    with prepared(args, "saturation") as (run_dir, provisioned):
        kinds = targets(args)
        for kind in kinds:
            sustained = 0.0
            steps = []
            with Session(args, run_dir, provisioned, kind) as session:
                for rate in ladder(args.start_rate, args.factor, args.max_rate):
                    streams = session.audience.branch_day(rate * 0.9, rate * 0.1)
                    step = session.run(Step(args.step, streams))
                    f = step.figures
                    lat = f["latency"]
                    ok = lat["p99_ms"] <= LIMIT_MS and not (
                        f["lost"]
                        or f["duplicated"]
                        or f["unexpected"]
                        or f["failed_posts"]
                        or f["retried_posts"]
                    )
                    report(
                        [
                            (
                                f"{kind} {rate:>5}/s",
                                f"p50 {lat['p50_ms']:>7} ms  p99 {lat['p99_ms']:>8} ms  "
                                f"{f['lost']} lost / {f['duplicated']} duplicated / "
                                f"{f['unexpected']} unexpected / {f['failed_posts']} failed / "
                                f"{f['retried_posts']} busy-retried posts"
                                f"  server {step.server_cores * 100:.0f}%  "
                                f"generator {step.generator_cores * 100:.0f}%  "
                                f"{f['deliveries_per_s']} deliveries/s"
                                + ("" if ok else "  <- limit"),
                            )
                        ]
                    )
                    steps.append(
                        {
                            "rate": rate,
                            **f,
                            "server_cores": step.server_cores,
                            "generator_cores": step.generator_cores,
                        }
                    )
                    if not ok:
                        break
                    sustained = rate
                else:
                    print(f"  {kind}: still under {LIMIT_MS:g} ms at --max-rate {args.max_rate:g}")
            if f["duplicated"] or f["unexpected"]:
                broken.append(kind)
            results[kind] = {"sustained_rate": sustained, "steps": steps}
            report([(f"{kind}: highest sustained rate", f"{sustained:g} messages/s")])
    if "baseline" in results and "counterline" in results:
        ratio = results["counterline"]["sustained_rate"] / max(
            results["baseline"]["sustained_rate"], 1
        )
        report([("ratio sustained rate (counterline / baseline)", f"{ratio:.2f}")])
    emit_json("saturation", results)
    if broken:
        print(f"FAILED: duplicated or misdelivered messages in {broken}")
        sys.exit(1)


if __name__ == "__main__":
    main()
