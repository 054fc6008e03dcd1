"""Benchmark: build one week's digest from a store holding a year of 1,000,000 cases.

Fills a store file (in a temp dir, or --db PATH to keep and reuse it) with
cases, their mentions, events, labels and privacy requests spread over 52
weeks, then builds the last week's digest in a fresh process, so its peak
memory is the digest's own, and prints plain lines plus one final JSON line.

    .venv/bin/python bench/digest.py [--cases 1000000] [--db PATH] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import iso
from bot.config import default_config
from bot.migrations import create_digest_schema
from bot.models import CATEGORIES
from bot.store import Store

GOAL_SECONDS = 1.0
BATCH = 50_000
END = datetime(2026, 11, 23, 8, tzinfo=UTC)  # Monday 00:00 in Los Angeles
START = END - timedelta(weeks=52)
NOW = END + timedelta(hours=9)  # the cron job fires at 09:00 local
WEEK = "2026-W47"
CATEGORY_WEIGHTS = (30, 20, 18, 12, 6, 9, 5)
PRIORITY_WEIGHTS = {"P1": 3, "P2": 15, "P3": 60, "P4": 22}
TEXTS = (
    "my parcel from {brand} never arrived, order {n}, call me at 415-555-{n4}",
    "the kettle broke after {n} days, really disappointed",
    "charged twice for order {n}, refund please! email me at someone{n}@example.com",
    "support hung up on me again, case {n}",
    "app keeps logging me out since the update",
    "where is my refund? it has been {n} days",
)


def batched(rows: Iterator[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def insert(store: Store, table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> int:
    """Insert in transactions of BATCH rows; ``columns`` is a space-separated list."""
    names = columns.split()
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    count = 0
    for batch in batched(rows):
        with store.transaction():
            store.db.conn.executemany(sql, batch)
        count += len(batch)
    return count


def fill(path: Path, cases: int, seed: int = 47) -> dict[str, int]:
    """Write ``cases`` cases with their first mention, follow-ups, non-complaints, events,
    labels and privacy requests. Times are spread evenly over the year, in id order."""
    rng = random.Random(seed)
    store = Store.open(path)
    store.db.execute("PRAGMA synchronous = OFF")
    span = (END - START).total_seconds()
    priorities = list(PRIORITY_WEIGHTS)
    plans = []
    for case_id in range(1, cases + 1):
        opened = START + timedelta(seconds=span * (case_id - 0.5) / cases)
        plans.append(
            (
                case_id,
                opened,
                rng.choices(priorities, list(PRIORITY_WEIGHTS.values()))[0],
                rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
                rng.random(),
                rng.random(),
            )
        )
    counts = {
        "cases": insert(store, "cases", CASE_COLUMNS, (case_row(p, rng) for p in plans)),
        "mentions": insert(store, "mentions", MENTION_COLUMNS, mention_rows(plans, rng)),
        "case_events": insert(store, "case_events", EVENT_COLUMNS, event_rows(store)),
        "labels": insert(store, "labels", LABEL_COLUMNS, label_rows(store)),
        "privacy_requests": insert(store, "privacy_requests", PRIVACY_COLUMNS, privacy_rows(plans)),
    }
    store.close()
    return counts


CASE_COLUMNS = (
    "id status platform post_id first_mention_id author_id author_handle "
    "author_followers category priority flags escalation_level repeat_complainer "
    "opened_at updated_at last_mention_at ack_due_at resolve_due_at ack_breached "
    "resolve_breached first_response_at first_response_seconds resolved_at "
    "resolution_seconds closed_at slack_channel slack_ts"
)


def case_row(plan: tuple[Any, ...], rng: random.Random) -> tuple[Any, ...]:
    case_id, opened, priority, category, fate, speed = plan
    age_days = (NOW - opened).total_seconds() / 86400
    ack_window = {"P1": 1, "P2": 4, "P3": 8, "P4": 20}[priority] * 3600
    resolve_window = {"P1": 1, "P2": 5, "P3": 8, "P4": 16}[priority] * 86400
    response = int(ack_window * speed * 1.4 / 2.5)
    resolution = int(resolve_window * speed * 1.3 / 2.5)
    responded_at = opened + timedelta(seconds=response * 2.5)
    resolved_at = opened + timedelta(seconds=resolution * 2.5)
    status, first, resolved, closed = "new", None, None, None
    if fate < 0.08 and responded_at < NOW:
        status, closed = "dismissed", opened + timedelta(hours=2)
    elif fate < 0.96 or age_days > 60:
        if responded_at < NOW:
            status, first = "responded", responded_at
        if resolved_at < NOW:
            status, resolved = "resolved", resolved_at
            if resolved_at + timedelta(days=3) < NOW:
                status, closed = "closed", resolved_at + timedelta(days=3)
    ack_due = opened + timedelta(seconds=ack_window)
    resolve_due = opened + timedelta(seconds=resolve_window)
    ack_late = int((first or NOW) > ack_due and status != "dismissed")
    resolve_late = int((resolved or NOW) > resolve_due and status != "dismissed")
    author = rng.randrange(300_000)
    return (
        case_id,
        status,
        "x" if author % 3 else "reddit",
        f"p{case_id}",
        case_id,
        f"a{author}",
        f"handle{author}",
        rng.randrange(20_000),
        category,
        priority,
        "[]",
        min(ack_late + resolve_late, 2),
        int(author % 7 == 0),
        iso(opened),
        iso(opened),
        iso(opened),
        iso(ack_due),
        iso(resolve_due),
        ack_late,
        resolve_late,
        iso(first) if first else None,
        response if first else None,
        iso(resolved) if resolved else None,
        resolution if resolved else None,
        iso(closed) if closed else None,
        "C0DIGEST",
        f"{int(opened.timestamp())}.{case_id % 1_000_000:06d}",
    )


MENTION_COLUMNS = (
    "id platform post_id author_id author_handle text url created_at fetched_at "
    "is_complaint complaint_probability category case_id"
)


def mention_rows(plans: list[tuple[Any, ...]], rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """One first mention per case (ids 1..n), then follow-ups and non-complaints."""
    n = len(plans)
    extra = n
    for case_id, opened, _, category, _, _ in plans:
        text = rng.choice(TEXTS).format(brand="@acme", n=case_id, n4=f"{case_id % 10_000:04d}")
        yield (
            case_id,
            "x",
            f"p{case_id}",
            f"a{case_id}",
            f"handle{case_id}",
            text,
            "",
            iso(opened),
            iso(opened),
            1,
            0.6 + 0.4 * rng.random(),
            category,
            case_id,
        )
    for case_id, opened, _, category, fate, _ in plans:
        later = opened + timedelta(hours=3)
        if fate > 0.8 and later < END:
            extra += 1
            yield (
                extra,
                "x",
                f"f{case_id}",
                f"a{case_id}",
                f"handle{case_id}",
                "any news?",
                "",
                iso(later),
                iso(later),
                1,
                0.7,
                category,
                case_id,
            )
        if fate < 0.5:
            extra += 1
            yield (
                extra,
                "reddit",
                f"n{case_id}",
                f"b{case_id}",
                f"other{case_id}",
                "love it",
                "",
                iso(opened + timedelta(minutes=7)),
                iso(opened),
                0,
                0.1,
                None,
                None,
            )


EVENT_COLUMNS = "case_id at actor kind details"


def event_rows(store: Store) -> Iterator[tuple[Any, ...]]:
    """The register as the case book writes it, read back from the cases just inserted."""
    for row in store.db.execute(
        "SELECT id, opened_at, first_response_at, resolved_at, closed_at, status, ack_breached,"
        " resolve_breached, ack_due_at, resolve_due_at FROM cases ORDER BY id"
    ):
        case_id, opened, first, resolved, closed, status, ack_late, resolve_late, ack_due, due = row
        yield case_id, opened, "system", "opened", "{}"
        if first:
            yield case_id, first, "U1", "status", '{"from": "new", "to": "responded"}'
        if ack_late:
            yield case_id, ack_due, "system", "sla_breach", '{"window": "ack"}'
            yield (
                case_id,
                ack_due,
                "system",
                "escalated",
                '{"level": 1, "reason": "ack deadline breached"}',
            )
        if resolve_late:
            yield case_id, due, "system", "sla_breach", '{"window": "resolve"}'
            yield (
                case_id,
                due,
                "system",
                "escalated",
                '{"level": 2, "reason": "resolve deadline breached"}',
            )
        if resolved:
            yield case_id, resolved, "U1", "status", '{"from": "responded", "to": "resolved"}'
        if closed:
            kind = (
                '"dismissed", "reason": "not_a_complaint"' if status == "dismissed" else '"closed"'
            )
            yield case_id, closed, "U1", "status", f'{{"to": {kind}}}'


LABEL_COLUMNS = "case_id mention_id text is_complaint reason actor created_at"


def label_rows(store: Store) -> Iterator[tuple[Any, ...]]:
    for case_id, closed in store.db.execute(
        "SELECT id, closed_at FROM cases WHERE status = 'dismissed' ORDER BY id"
    ):
        yield case_id, case_id, "not a complaint", 0, "not_a_complaint", "U1", closed


PRIVACY_COLUMNS = (
    "case_id platform received_at nature method acknowledge_due_at respond_due_at "
    "acknowledged_at responded_at"
)


def privacy_rows(plans: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for case_id, opened, _, _, fate, _ in plans[::50]:
        responded = opened + timedelta(days=20 + 30 * fate)
        yield (
            case_id,
            "x",
            iso(opened),
            "delete",
            "public post",
            iso(opened + timedelta(days=14)),
            iso(opened + timedelta(days=45)),
            iso(opened + timedelta(days=3)),
            iso(responded) if responded < NOW else None,
        )


def measure(path: Path, runs: int) -> dict[str, Any]:
    """Build the digest ``runs`` times in this (fresh) process; report time and memory."""
    from bot.clock import ManualClock
    from bot.digest.build import build_digest
    from bot.digest.weeks import Week

    config = default_config()
    store = Store.open(path)
    started = time.perf_counter()
    create_digest_schema(store.db)
    schema_seconds = time.perf_counter() - started
    week = Week.parse(WEEK, config.digest.timezone)
    clock = ManualClock(NOW)
    timings, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        digest = build_digest(store, config, week, clock.now())
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    tracemalloc.start()  # a run of its own: tracing slows every allocation
    build_digest(store, config, week, clock.now())
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    from bot.digest.chart import render_chart
    from bot.digest.render import render

    chart = render_chart(digest)
    html = render(digest, "html", chart)
    render_seconds = time.perf_counter() - started
    return {
        "week": WEEK,
        "schema_seconds": round(schema_seconds, 2),
        "build_seconds": [round(t, 3) for t in timings],
        "first_build_seconds": round(timings[0], 3),
        "best_build_seconds": round(min(timings), 3),
        "build_cpu_seconds": [round(t, 3) for t in cpu],
        "chart_and_html_seconds": round(render_seconds, 3),
        "html_bytes": len(html),
        "python_peak_mib": round(traced_peak / 2**20, 1),
        "process_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cases_opened_in_week": digest["cases_opened"],
        "goal_met": max(timings) <= GOAL_SECONDS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="store file to fill (reused if it exists)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.db, args.runs)))
        return
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as tmp:
        path = args.db or Path(tmp) / "bench.db"
        result: dict[str, Any] = {"cases": args.cases}
        if not path.exists():
            started = time.perf_counter()
            result["rows"] = fill(path, args.cases)
            result["fill_seconds"] = round(time.perf_counter() - started, 1)
            print(f"filled {path} in {result['fill_seconds']} s: {result['rows']}")
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--measure-only",
                "--db",
                str(path),
                "--runs",
                str(args.runs),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        result.update(json.loads(child.stdout.strip().splitlines()[-1]))
    print(
        f"digest {result['week']}: built in {result['build_seconds']} s (goal <= {GOAL_SECONDS} s)"
    )
    print(f"CPU time per build: {result['build_cpu_seconds']} s (the rest of wall time is waiting)")
    print(f"chart + html: {result['chart_and_html_seconds']} s")
    print(f"schema and indexes (first run only): {result['schema_seconds']} s")
    print(f"peak memory: {result['python_peak_mib']} MiB traced Python")
    print(f"peak memory: {result['process_max_rss_mib']} MiB process RSS")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
