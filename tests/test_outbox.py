"""The outbox: one effect per key, retries with backoff, resumed deliveries after a crash."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from factories import la

from bot.clock import ManualClock
from bot.errors import PermanentError, RateLimited, TransientError
from bot.outbox import Delivery, Outbox, OutboxWorker
from bot.store import Store


def make() -> tuple[Outbox, ManualClock]:
    clock = ManualClock(la(2026, 11, 30, 9))
    return Outbox(Store.memory(), clock), clock


def test_same_key_is_queued_once() -> None:
    outbox, _ = make()
    first = outbox.enqueue("reply", "case:1:reply", {"text": "hi"}, case_id=1)
    again = outbox.enqueue("reply", "case:1:reply", {"text": "hi again"}, case_id=1)
    assert first[1] is True and again == (first[0], False)
    assert outbox.backlog() == 1


def test_delivery_records_the_result_and_is_not_repeated() -> None:
    outbox, _ = make()
    calls: list[Delivery] = []

    def post(delivery: Delivery) -> Mapping[str, Any]:
        calls.append(delivery)
        return {"reply_id": "99"}

    worker = OutboxWorker(outbox, {"reply": post})
    outbox.enqueue("reply", "k", {"text": "hi"})
    assert worker.run_once() == {"done": 1, "retried": 0, "failed": 0}
    assert worker.run_once() == {"done": 0, "retried": 0, "failed": 0}
    assert len(calls) == 1 and calls[0].resumed is False
    row = outbox.row("k")
    assert row is not None and row["status"] == "done" and '"99"' in row["result"]


def test_rate_limit_waits_until_told_and_transient_errors_back_off() -> None:
    outbox, clock = make()
    failures: list[Exception] = [RateLimited("429", retry_after=600), TransientError("502")]

    def flaky(delivery: Delivery) -> Mapping[str, Any]:
        if failures:
            raise failures.pop(0)
        return {"ok": True}

    worker = OutboxWorker(outbox, {"slack": flaky}, rng=random.Random(1))
    outbox.enqueue("slack", "k", {})
    assert worker.run_once()["retried"] == 1
    clock.advance(timedelta(seconds=599))
    assert worker.run_once() == {"done": 0, "retried": 0, "failed": 0}
    clock.advance(timedelta(seconds=1))
    assert worker.run_once()["retried"] == 1
    clock.advance(timedelta(seconds=10))  # backoff after attempt 2 is 5-10 s
    assert worker.run_once()["done"] == 1
    row = outbox.row("k")
    assert row is not None and row["attempts"] == 3


def test_permanent_refusal_is_not_retried() -> None:
    outbox, clock = make()
    calls = []

    def refuse(delivery: Delivery) -> Mapping[str, Any]:
        calls.append(delivery)
        raise PermanentError("403 duplicate content")

    worker = OutboxWorker(outbox, {"reply": refuse})
    outbox.enqueue("reply", "k", {})
    assert worker.run_once()["failed"] == 1
    clock.advance(timedelta(days=1))
    worker.run_once()
    assert len(calls) == 1
    row = outbox.row("k")
    assert row is not None and row["status"] == "failed" and "duplicate" in row["last_error"]


def test_a_row_left_sending_by_a_crash_is_resumed_with_a_flag() -> None:
    outbox, _ = make()
    outbox.enqueue("reply", "k", {})
    outbox.claim()  # the process dies here, after claiming and maybe after posting
    seen: list[Delivery] = []

    def check_then_post(delivery: Delivery) -> Mapping[str, Any]:
        seen.append(delivery)
        return {"reply_id": "found-on-platform"}

    OutboxWorker(outbox, {"reply": check_then_post}).run_once()
    assert [(d.resumed, d.attempt) for d in seen] == [(True, 2)]


def test_backoff_grows_and_is_capped() -> None:
    outbox, _ = make()
    worker = OutboxWorker(outbox, {}, rng=random.Random(0))
    assert 2.5 <= worker.backoff(1) <= 5
    assert 40 <= worker.backoff(5) <= 80
    assert 450 <= worker.backoff(30) <= 900
