"""Intake throughput (issue 17): mentions fetched from X, classified by the shipped model, and
cases opened, per second, through the daemon's own poll against the X emulator.

For each ``--posts`` size: a fresh X emulator (its own process, as a remote platform would be)
holds that many @mentions (texts from data/labelled/posts.csv, every author different), and a
fresh store; the daemon, with the real classifier and Slack disabled (so Slack's posting limit
is out of the figure), polls X back to back until every post is stored, classified and, if a
complaint, in a case. Both X sources (recent search and the mentions timeline) return every
post, as on X. Model loading is not timed; the classifier uses the
threads ``complaintbot run`` gives it (at most 2). Prints the stages' shares and one JSON line last
(the largest size's figures, every size under ``runs``).

    .venv/bin/python bench/pipeline.py [--posts 1000 10000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.app.daemon import Daemon, embedder_of  # noqa: E402
from bot.config import Config, default_config  # noqa: E402
from bot.models import Classification, Classifier  # noqa: E402
from emulators.admin import XAdmin  # noqa: E402

TEXTS = REPO / "data" / "labelled" / "posts.csv"
GOAL_MENTIONS_PER_S = 300.0
SECRETS = {
    "X_BEARER_TOKEN": "AAAAAAAAAAAAAAAAAAAAAPipelineBenchToken",
    "X_API_KEY": "pipeline-consumer-key",
    "X_API_SECRET": "pipeline-consumer-secret",
    "X_ACCESS_TOKEN": "1700000000000000001-pipeline-access-token",
    "X_ACCESS_SECRET": "pipeline-access-secret",
}


class Stopwatch:
    """Seconds spent inside wrapped calls, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        return timed


class TimedClassifier:
    """The shipped classifier, timed; its sentence vectors (``embed``) are passed on, so the
    intake groups incidents as the daemon does."""

    def __init__(self, inner: Classifier, watch: Stopwatch) -> None:
        self.classify_timed = watch.wrap("classify", inner.classify)
        self.embedder = embedder_of(inner)

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        verdicts: list[Classification] = self.classify_timed(texts)
        return verdicts


class XEmulatorProcess:
    """``complaintbot emulators`` in a child process; only its X part is used."""

    def __enter__(self) -> XEmulatorProcess:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from emulators.cli import command; command()",
                "--no-rate-limits",
            ],
            stdout=subprocess.PIPE,
            env=env,
            cwd=REPO,
            text=True,
        )
        assert self.process.stdout is not None
        self.urls: dict[str, str] = json.loads(self.process.stdout.readline())
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def post_texts() -> list[str]:
    with TEXTS.open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    # Each names the brand account, so both X sources find it and a reply would be allowed.
    return [f"@acme {' '.join(w for w in t.split() if not w.startswith('@'))}" for t in texts]


def bench_config(x_url: str, folder: Path) -> Config:
    base = default_config(REPO)
    return replace(
        base,
        store=replace(base.store, path=folder / "bot.db"),
        brand=replace(base.brand, terms=("acme",)),
        x=replace(base.x, enabled=True, handle="acme", api_base_url=x_url, page_size=100),
        slack=replace(base.slack, enabled=False),
    )


def run_size(
    posts: int,
    texts: list[str],
    classifier: Classifier,
    repeats: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Seed ``posts`` once, then take them in ``repeats`` times, each into a fresh store; the
    best run counts (the machine is shared: best-of filters out the neighbours)."""
    with XEmulatorProcess() as emulator:
        x = XAdmin(emulator.urls["x"])
        started = time.perf_counter()
        for n in range(posts):
            x.add_post(texts[n % len(texts)], f"buyer{n}", author_followers=n % 5000)
        say(f"{posts} posts seeded in {time.perf_counter() - started:.1f} s")
        runs = [take_in_all(emulator.urls["x"], posts, classifier) for _ in range(repeats)]
    best = min(runs, key=lambda run: run["seconds"])
    elapsed = best["seconds"]
    say(
        f"{posts:>6} posts: {elapsed:6.1f} s, {best['mentions_per_s']:7.1f} mentions/s, "
        f"{best['cases_per_s']:7.1f} cases/s ({best['cases']} cases, {best['polls']} polls, "
        f"{best['posts_read']} posts read; best of {repeats}: "
        + ", ".join(f"{run['seconds']:.1f}" for run in runs)
        + " s)"
    )
    say(
        "        time: "
        + ", ".join(
            f"{name} {best[key]:.1f} s ({best[key] / elapsed:.0%})"
            for name, key in (
                ("fetch (X over HTTP)", "fetch_s"),
                ("store", "store_s"),
                ("classify", "classify_s"),
                ("open cases", "take_in_s"),
            )
        )
    )
    say(
        f"        without waiting on the emulated X: {best['mentions_per_s_without_fetch']:.1f}"
        " mentions/s"
    )
    return {**best, "repeats": repeats, "all_seconds": [run["seconds"] for run in runs]}


def take_in_all(x_url: str, posts: int, classifier: Classifier) -> dict[str, Any]:
    """A fresh store and daemon; poll X back to back until every post is in; time it."""
    with tempfile.TemporaryDirectory() as tmp:
        watch = Stopwatch()
        daemon = Daemon(bench_config(x_url, Path(tmp)), SECRETS, TimedClassifier(classifier, watch))
        connector = daemon.connectors["x"]
        connector.fetch = watch.wrap("fetch", connector.fetch)  # type: ignore[method-assign]
        daemon.ingestor.poll = watch.wrap("ingest", daemon.ingestor.poll)  # type: ignore[method-assign]
        daemon.classify_pending = watch.wrap("intake", daemon.classify_pending)  # type: ignore[method-assign]
        db = daemon.store.db
        read = polls = 0
        started = time.perf_counter()
        while True:
            report = daemon.poll("x")
            polls += 1
            read += report["posts_read"]
            if report["error"] or report["rate_limited_until"]:
                raise RuntimeError(f"the poll failed: {report}")
            if not report["new"] and not report["cases_opened"] and not report["complaints"]:
                break
        elapsed = time.perf_counter() - started

        def count(sql: str) -> int:
            return int(db.execute(sql).fetchone()[0])

        stored = count("SELECT count(*) FROM mentions")
        classified = count("SELECT count(*) FROM mentions WHERE classified_at IS NOT NULL")
        cases = count("SELECT count(*) FROM cases")
        daemon.store.close()
    if stored != posts or classified != posts:
        raise RuntimeError(f"{posts} seeded but {stored} stored, {classified} classified")
    fetch = watch.seconds.get("fetch", 0.0)
    classify = watch.seconds.get("classify", 0.0)
    return {
        "posts": posts,
        "mentions_per_s": round(stored / elapsed, 1),
        "cases_per_s": round(cases / elapsed, 1),
        "mentions_per_s_without_fetch": round(stored / (elapsed - fetch), 1),
        "cases": cases,
        "seconds": round(elapsed, 2),
        "polls": polls,
        "posts_read": read,
        "fetch_s": round(fetch, 2),
        "store_s": round(watch.seconds.get("ingest", 0.0) - fetch, 2),
        "classify_s": round(classify, 2),
        "take_in_s": round(watch.seconds.get("intake", 0.0) - classify, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--posts", type=int, nargs="+", default=[1000], help="sizes, e.g. --posts 1000 10000"
    )
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        os.environ.pop(name, None)
        os.environ.pop(name.lower(), None)

    from bot.app.wiring import load_classifier

    started = time.perf_counter()
    classifier = load_classifier(default_config(REPO))
    texts = post_texts()
    classifier.classify(texts[:64])  # warm up
    print(
        f"classifier loaded in {time.perf_counter() - started:.1f} s; {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f} (other work on the machine slows every figure)"
    )
    runs = [run_size(n, texts, classifier, args.repeats, print) for n in args.posts]
    last = runs[-1]
    print(
        f"goal >= {GOAL_MENTIONS_PER_S:g} mentions/s: "
        + ("met" if all(r["mentions_per_s"] >= GOAL_MENTIONS_PER_S for r in runs) else "NOT met")
    )
    print(
        json.dumps(
            {
                "mentions_per_s": last["mentions_per_s"],
                "cases_per_s": last["cases_per_s"],
                "posts": last["posts"],
                "runs": runs,
                "load_average": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
