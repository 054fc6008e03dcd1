"""Benchmark: redaction time on 1 MB of adversarial text against 1 MB of ordinary posts.

Times ``mask_personal_data`` and ``mask_handles`` on each adversarial input (long runs that
make a backtracking pattern retry from every position) and on ordinary complaint text, the
baseline measured in the same run, and prints seconds, MB/s and the ratio to the baseline,
then the cost of a digest quote and of a Slack card for posts of 300 characters to 1 MB
(flat past the few KB that are masked). The last line is one JSON object.

    .venv/bin/python bench/redaction.py [--size 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.digest.sections import redact_quote
from bot.models import Mention
from bot.records import Case
from bot.redact import mask_handles, mask_personal_data
from bot.slack.cards import case_card

GOAL_SECONDS = 1.0
ORDINARY = (
    "@acme my parcel never arrived, order 48213, call me at 415-555-0134 or (415) 555-0199.",
    "charged twice for order 77120! refund to card 4111 1111 1111 1111 please, u/acme_help",
    "email me at jane.doe+acme@example.co.uk, I live at 221B Baker Street, London.",
    "the kettle broke after 3 days on the way, really disappointed with the 50 ct pack.",
    "ship it to 1600 Amphitheatre Pkwy, Mountain View, or PO Box 1234 instead.",
    "support hung up on me again, case 1795909852123456789, season 2025-2026.",
    "write to jane(at)example(dot)com, or +44 20 7946 0958 ext 12 from abroad.",
)


def fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def mixed(size: int, seed: int = 11) -> str:
    """Random runs of the characters the patterns care about."""
    rng = random.Random(seed)
    alphabet = "aZ09._%+-@ ()[]/u\n,#'"
    parts: list[str] = []
    total = 0
    while total < size:
        part = rng.choice(alphabet) * rng.choice((1, 1, 2, 3, 8, 64, 500))
        parts.append(part)
        total += len(part)
    return "".join(parts)[:size]


def adversarial_texts(size: int) -> dict[str, str]:
    """Inputs that make a backtracking pattern do work at every position."""
    return {
        "word characters": fill("a", size),
        "a.a.a.": fill("a.", size),
        "a@a@a@": fill("a@", size),
        "a@a.a.a.": "a@" + fill("a.", size - 2),
        "digits": fill("1", size),
        "1 1 1 ": fill("1 ", size),
        "1-1-1-": fill("1-", size),
        "+1 1 1 ": fill("+1 1 1 1 1 1 ", size),
        "a(at)a(at)": fill("a(at)", size),
        "a [dot] a [dot]": fill("a [dot] ", size),
        "a (at) b (dot)": "a (at) b" + fill(" (dot) b", size - 8),
        "123 Main Main": "123" + fill(" Main", size - 3),
        "1 Main 1 Main": fill("1 Main ", size),
        "1 a 1 a ... St": fill("1 a ", size - 10) + " 1 St Lane",
        "P O P O": fill("P O ", size),
        "@@@@": fill("@", size),
        "u/u/u/": fill("u/", size),
        "email + spaces": "jane@example.com" + " " * (size - 16),
        "mixed random": mixed(size),
    }


def ordinary_text(size: int, seed: int = 5) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    while total < size:
        part = rng.choice(ORDINARY) + " "
        parts.append(part)
        total += len(part)
    return "".join(parts)[:size]


def redact(text: str) -> str:
    return mask_handles(mask_personal_data(text))


def best_of(runs: int, work: Callable[[], Any]) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def card_for(text: str) -> None:
    case = Case.from_row(
        {"id": 1, "platform": "x", "author_handle": "jane", "author_followers": 10}
        | {"priority": "P3", "category": "delivery", "status": "new", "can_reply": 1}
    )
    post = Mention("x", "1", "u1", "jane", text, datetime.now(UTC), "https://x.com/jane/status/1")
    case_card(case, post, "UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="characters per input")
    parser.add_argument("--runs", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    mb = args.size / 1_000_000
    baseline = best_of(args.runs, lambda: redact(ordinary_text(args.size)))
    print(f"ordinary text (baseline): {baseline:.3f} s for {mb:g} MB, {mb / baseline:.1f} MB/s")
    result: dict[str, Any] = {"size": args.size, "ordinary_seconds": round(baseline, 4)}
    worst = 0.0
    for name, text in adversarial_texts(args.size).items():
        seconds = best_of(args.runs, lambda text=text: redact(text))
        worst = max(worst, seconds)
        result[name] = round(seconds, 4)
        print(
            f"{name:<18} {seconds:7.3f} s  {mb / seconds:7.1f} MB/s"
            f"  x{seconds / baseline:.2f} ordinary"
        )
    result["worst_seconds"] = round(worst, 4)
    result["goal_met"] = worst <= GOAL_SECONDS
    print(f"worst adversarial input: {worst:.3f} s (goal <= {GOAL_SECONDS} s per MB)")

    lengths = (300, 5_000, 100_000, 1_000_000)
    posts = {length: ordinary_text(length) for length in lengths}
    repeats = 100
    for label, work in (("digest quote", redact_quote), ("slack card", card_for)):
        costs = {}
        for length, post in posts.items():
            seconds = best_of(
                args.runs, lambda work=work, post=post: [work(post) for _ in range(repeats)]
            )
            costs[length] = seconds / repeats * 1000
        result[f"{label} ms"] = {str(length): round(ms, 3) for length, ms in costs.items()}
        print(
            f"{label} of an ordinary post: "
            + ", ".join(f"{length:,} chars {ms:.3f} ms" for length, ms in costs.items())
            + f" (1 MB / 5,000 chars: x{costs[1_000_000] / costs[5_000]:.2f})"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
