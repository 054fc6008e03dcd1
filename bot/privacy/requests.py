"""Privacy requests (CCPA/CPRA, 11 CCR 7020–7022) and the request log (11 CCR 7101).

``PrivacyBook`` is the one writer of ``privacy_requests`` for a request's lifecycle (the
erasure module of this package only pseudonymises the requester). Every change is one
transaction that appends a row to ``privacy_log`` (hash-chained by ``bot.audit``) holding
what 7101 asks to keep: the dates, the nature of the request, how it was made, the date and
nature of the response and the basis of a denial, under the request id and a pseudonymous
requester id, never the handle. So a later deletion request can erase the person from the
request row and the log still answers for it.

The clocks, precisely (``[policy.privacy]``, the business calendar of ``[policy]``):

- ``acknowledge_due_at``: the same local time on the ``acknowledge_business_days``-th
  working day after the day of receipt (``BusinessCalendar.working_days_after``: weekends,
  California holidays and ``extra_holidays`` do not count, nor does the day of receipt);
- ``respond_due_at``: the same local time ``respond_days`` calendar days after receipt. It
  never pauses (not for identity verification either); one extension of ``extension_days``
  may be given, with a reason, only before it falls due;
- a window warns at ``[policy] warn_at`` of its length — the acknowledgement window of its
  business time, the response window of its calendar time (after an extension, of the
  extended window, warned once more) — and breaches at its deadline, each once.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlite_utils

from bot import audit
from bot.calendar import BusinessCalendar
from bot.clock import Clock, iso, parse_iso, to_utc
from bot.config import PolicySettings
from bot.errors import PrivacyRequestError
from bot.policy import business_calendar
from bot.privacy.model import KINDS, WINDOWS, PrivacyAlert, PrivacyRequest, guess_kind
from bot.records import Case
from bot.redact import mask_handles, mask_personal_data
from bot.store import Store

LOG = "privacy_log"


class PrivacyBook:
    """Privacy requests in the store, their clocks, and the request log."""

    def __init__(self, store: Store, policy: PolicySettings, clock: Clock) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self.calendar: BusinessCalendar = business_calendar(policy)
        self.zone = ZoneInfo(policy.timezone)

    @property
    def db(self) -> sqlite_utils.Database:
        return self.store.db

    # ------------------------------------------------------------------ reading

    def get(self, request_id: int) -> PrivacyRequest:
        rows = list(self.db.table("privacy_requests").rows_where("id = ?", [request_id]))
        if not rows:
            raise PrivacyRequestError(f"no privacy request with id {request_id}")
        return PrivacyRequest.from_row(rows[0])

    def for_case(self, case_id: int) -> PrivacyRequest | None:
        rows = list(
            self.db.table("privacy_requests").rows_where(
                "case_id = ?", [case_id], order_by="id", limit=1
            )
        )
        return PrivacyRequest.from_row(rows[0]) if rows else None

    def requests(self, statuses: tuple[str, ...] = ()) -> list[PrivacyRequest]:
        """Every request (or those in the given states), newest first."""
        where = f"COALESCE(status, 'received') IN ({', '.join('?' * len(statuses))})"
        rows = self.db.table("privacy_requests").rows_where(
            where if statuses else None, list(statuses), order_by="id DESC"
        )
        return [PrivacyRequest.from_row(row) for row in rows]

    def log(self, request_id: int) -> list[dict[str, Any]]:
        """The request's log rows, oldest first (details as JSON text, possibly erased)."""
        rows = self.db.execute(
            "SELECT id, at, actor, kind, details FROM privacy_log WHERE request_id = ? ORDER BY id",
            [request_id],
        ).fetchall()
        return [
            dict(zip(("id", "at", "actor", "kind", "details"), row, strict=True)) for row in rows
        ]

    # ------------------------------------------------------------------ clocks

    def deadlines(self, received_at: datetime) -> dict[str, str]:
        """The four instants of a request received at ``received_at``."""
        privacy, warn = self.policy.privacy, self.policy.warn_at
        ack_due = self.calendar.working_days_after(received_at, privacy.acknowledge_business_days)
        ack_window = self.calendar.between(received_at, ack_due)
        respond_due = self.days_after(received_at, privacy.respond_days)
        return {
            "acknowledge_due_at": iso(ack_due),
            "acknowledge_warn_at": iso(self.calendar.add(received_at, ack_window * warn)),
            "respond_due_at": iso(respond_due),
            "respond_warn_at": iso(self._respond_warn(received_at, respond_due)),
        }

    def days_after(self, start: datetime, days: int) -> datetime:
        """The same local wall-clock time ``days`` calendar days later."""
        local = to_utc(start).astimezone(self.zone)
        wall = datetime.combine(local.date() + timedelta(days=days), local.time(), self.zone)
        return wall.astimezone(UTC)

    def _respond_warn(self, received_at: datetime, due: datetime) -> datetime:
        return to_utc(received_at) + (due - to_utc(received_at)) * self.policy.warn_at

    # ------------------------------------------------------------------ lifecycle

    def open(
        self, case: Case, received_at: datetime, method: str, actor: str, text: str = ""
    ) -> tuple[PrivacyRequest, bool]:
        """Open the case's request (its kind guessed from ``text``); a case has at most one,
        so a second call returns the first and False."""
        with self.store.transaction():
            existing = self.for_case(case.id)
            if existing is not None:
                return existing, False
            kind = guess_kind(text)
            clocks = self.deadlines(received_at)
            row = {
                "case_id": case.id,
                "platform": case.platform,
                "author_handle": case.author_handle,
                "requester_id": "req-" + secrets.token_hex(8),
                "received_at": iso(received_at),
                "nature": kind,
                "method": method,
                "status": "received",
                **clocks,
                "updated_at": iso(self.clock.now()),
            }
            request_id = self.db.table("privacy_requests").insert(row).last_rowid
            assert request_id is not None
            self._log(
                request_id,
                actor,
                "received",
                requester_id=row["requester_id"],
                case_id=case.id,
                nature=kind,
                method=method,
                received_at=row["received_at"],
                acknowledge_due_at=clocks["acknowledge_due_at"],
                respond_due_at=clocks["respond_due_at"],
            )
        return self.get(request_id), True

    def set_kind(self, request_id: int, kind: str, actor: str) -> PrivacyRequest:
        if kind not in KINDS:
            raise PrivacyRequestError(f"kind {kind!r}; use one of {', '.join(KINDS)}")
        with self.store.transaction():
            request = self._open_request(request_id, "change kind")
            if request.kind == kind:
                return request
            self._update(request_id, nature=kind)
            self._log(request_id, actor, "kind_set", nature=kind, previous=request.kind)
        return self.get(request_id)

    def acknowledge(self, request_id: int, actor: str) -> PrivacyRequest:
        """Record that the requester was told the request was received."""
        with self.store.transaction():
            request = self._open_request(request_id, "be acknowledged")
            if request.acknowledged_at is not None:
                raise PrivacyRequestError(
                    f"privacy request {request_id} was already acknowledged "
                    f"({iso(request.acknowledged_at)})"
                )
            now = self.clock.now()
            self._update(request_id, status="acknowledged", acknowledged_at=iso(now))
            self._log(
                request_id,
                actor,
                "acknowledged",
                acknowledged_at=iso(now),
                on_time=now <= request.acknowledge_due_at,
            )
        return self.get(request_id)

    def extend(self, request_id: int, actor: str, reason: str) -> PrivacyRequest:
        """The one extension, before the response falls due. Telling the requester of it also
        tells them the request was received, so it acknowledges one not yet acknowledged."""
        if not reason.strip():
            raise PrivacyRequestError("an extension needs a reason (it is told to the requester)")
        with self.store.transaction():
            request = self._open_request(request_id, "be extended")
            now = self.clock.now()
            if request.extended:
                raise PrivacyRequestError(
                    f"privacy request {request_id} was already extended once; "
                    "the law allows one extension"
                )
            if now >= request.respond_due_at:
                raise PrivacyRequestError(
                    f"privacy request {request_id} fell due {iso(request.respond_due_at)}; "
                    "an extension must be given before the deadline"
                )
            due = self.days_after(request.respond_due_at, self.policy.privacy.extension_days)
            clean = self._scrub(reason, request)
            self._update(
                request_id,
                status="extended",
                extended=1,
                extension_reason=clean,
                extended_at=iso(now),
                respond_due_at=iso(due),
                respond_warn_at=iso(self._respond_warn(request.received_at, due)),
                respond_warned=0,
                acknowledged_at=iso(request.acknowledged_at or now),
            )
            self._log(
                request_id,
                actor,
                "extended",
                extended_at=iso(now),
                reason=clean,
                previous_due_at=iso(request.respond_due_at),
                respond_due_at=iso(due),
                acknowledged_by_notice=request.acknowledged_at is None,
            )
        return self.get(request_id)

    def complete(
        self, request_id: int, actor: str, outcome: str, denied: bool = False, basis: str = ""
    ) -> PrivacyRequest:
        """Close the request with its response (or its denial and the basis for it)."""
        if not outcome.strip():
            raise PrivacyRequestError("say what the response was (the outcome)")
        if denied and not basis.strip():
            raise PrivacyRequestError("a denial needs its basis (11 CCR 7101 keeps it)")
        with self.store.transaction():
            request = self._open_request(request_id, "be completed")
            now = iso(self.clock.now())
            status = "denied" if denied else "completed"
            response = self._scrub(outcome, request)
            denial = self._scrub(basis, request) if denied else None
            self._update(
                request_id,
                status=status,
                responded_at=now,
                response=response,
                denial_basis=denial,
                closed_at=now,
                acknowledged_at=iso(request.acknowledged_at) if request.acknowledged_at else now,
            )
            self._log(
                request_id,
                actor,
                status,
                nature=request.kind,
                method=request.method,
                received_at=iso(request.received_at),
                responded_at=now,
                response=response,
                denial_basis=denial,
                on_time=self.clock.now() <= request.respond_due_at,
            )
        return self.get(request_id)

    # ------------------------------------------------------------------ watcher reads and marks

    def due_for_warning(self, at: datetime | None = None) -> list[PrivacyAlert]:
        """Windows past their warning point (``warn_at``) not yet warned about."""
        return self._alerts("warn_at", "warned", at)

    def breached(self, at: datetime | None = None) -> list[PrivacyAlert]:
        """Windows past their deadline not yet marked breached."""
        return self._alerts("due_at", "breached", at)

    def _alerts(self, instant: str, flag: str, at: datetime | None) -> list[PrivacyAlert]:
        now = iso(at or self.clock.now())
        alerts: list[PrivacyAlert] = []
        for window, pending in (
            ("acknowledge", "status = 'received' AND acknowledged_at IS NULL"),
            ("respond", "status IN ('received', 'acknowledged', 'extended')"),
        ):
            rows = self.db.execute(
                f"SELECT id, case_id, {window}_due_at, extended FROM privacy_requests"
                f" WHERE {pending} AND {window}_{instant} <= ? AND {window}_{flag} = 0"
                " ORDER BY id",
                [now],
            ).fetchall()
            alerts += [
                PrivacyAlert(row[0], row[1], window, parse_iso(row[2]), bool(row[3]))
                for row in rows
            ]
        return alerts

    def mark_warned(self, request_id: int, window: str) -> bool:
        """Claim the window's warning; False if another worker already did (sent once)."""
        return self._mark(request_id, window, "warned")

    def mark_breached(self, request_id: int, window: str) -> bool:
        """Claim the window's breach; False if it was already recorded."""
        return self._mark(request_id, window, "breached")

    def _mark(self, request_id: int, window: str, flag: str) -> bool:
        if window not in WINDOWS:
            raise ValueError(f"window {window!r}; use one of {', '.join(WINDOWS)}")
        with self.store.transaction():
            claimed = self.db.execute(
                f"UPDATE privacy_requests SET {window}_{flag} = 1"
                f" WHERE id = ? AND {window}_{flag} = 0",
                [request_id],
            ).rowcount
            if claimed != 1:
                return False
            request = self.get(request_id)
            due = getattr(request, f"{window}_due_at")
            self._log(request_id, "system", f"{window}_{flag}", due_at=iso(due))
        return True

    # ------------------------------------------------------------------ helpers

    def _open_request(self, request_id: int, verb: str) -> PrivacyRequest:
        request = self.get(request_id)
        if not request.is_open:
            raise PrivacyRequestError(
                f"privacy request {request_id} is {request.status}; it cannot {verb}"
            )
        return request

    def _update(self, request_id: int, **changes: Any) -> None:
        self.db.table("privacy_requests").update(
            request_id, {**changes, "updated_at": iso(self.clock.now())}
        )

    def _log(self, request_id: int, actor: str, kind: str, **details: Any) -> None:
        row = {"request_id": request_id, "at": iso(self.clock.now()), "actor": actor, "kind": kind}
        with self.store.transaction():
            audit.append(self.db, LOG, row, details)

    @staticmethod
    def _scrub(text: str, request: PrivacyRequest) -> str:
        """Staff text kept in the record and the log, without the requester's handle or
        contact details: the log outlives a deletion request."""
        clean = mask_handles(mask_personal_data(text.strip()))
        handle = (request.author_handle or "").lstrip("@")
        if handle:
            clean = re.sub(
                rf"(?<!\w){re.escape(handle)}(?!\w)", "[requester]", clean, flags=re.IGNORECASE
            )
        return clean
