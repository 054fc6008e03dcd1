"""The store's schema, one migration at a time (sqlite-utils records which have run)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.audit import seal_existing

migrations = Migrations("complaintbot")


@migrations(name="0001_initial")
def _initial(db: sqlite_utils.Database) -> None:
    db.table("mentions").create(
        {
            "id": int,
            "platform": str,
            "post_id": str,
            "author_id": str,
            "author_handle": str,
            "author_followers": int,
            "text": str,
            "url": str,
            "created_at": str,
            "fetched_at": str,
            "mentions_brand": int,
            "parent_id": str,
            "kind": str,
            "is_complaint": int,
            "complaint_probability": float,
            "category": str,
            "flags": str,
            "classified_at": str,
            "case_id": int,
            "deleted_at": str,
        },
        pk="id",
        not_null={"platform", "post_id", "text", "created_at", "fetched_at"},
        defaults={"author_followers": 0, "mentions_brand": 0, "kind": "post"},
    )
    db.table("mentions").create_index(["platform", "post_id"], unique=True)
    db.table("mentions").create_index(["case_id"])
    db.table("mentions").create_index(["fetched_at"])
    db.table("cases").create(
        {
            "id": int,
            "status": str,
            "platform": str,
            "post_id": str,
            "first_mention_id": int,
            "author_id": str,
            "author_handle": str,
            "author_followers": int,
            "category": str,
            "priority": str,
            "flags": str,
            "flag_reasons": str,
            "can_reply": int,
            "reply_block_reason": str,
            "escalation_level": int,
            "repeat_complainer": int,
            "opened_at": str,
            "updated_at": str,
            "last_mention_at": str,
            "ack_due_at": str,
            "ack_warn_at": str,
            "ack_warned": int,
            "ack_breached": int,
            "resolve_due_at": str,
            "resolve_warn_at": str,
            "resolve_warned": int,
            "resolve_breached": int,
            "paused_at": str,
            "first_response_at": str,
            "resolved_at": str,
            "closed_at": str,
            "clra_cure_due_at": str,
            "assignee": str,
            "draft_reply": str,
            "resolution": str,
            "slack_channel": str,
            "slack_ts": str,
        },
        pk="id",
        not_null={"status", "platform", "priority", "opened_at"},
        defaults={
            "escalation_level": 0,
            "ack_warned": 0,
            "ack_breached": 0,
            "resolve_warned": 0,
            "resolve_breached": 0,
            "repeat_complainer": 0,
            "can_reply": 0,
        },
    )
    for columns in (
        ["status"],
        ["platform", "author_id", "status"],
        ["opened_at"],
        ["ack_due_at"],
        ["resolve_due_at"],
    ):
        db.table("cases").create_index(columns)
    db.table("case_events").create(
        {"id": int, "case_id": int, "at": str, "actor": str, "kind": str, "details": str},
        pk="id",
        not_null={"case_id", "at", "actor", "kind"},
        foreign_keys=[("case_id", "cases", "id")],
    )
    db.table("case_events").create_index(["case_id"])
    db.table("case_events").create_index(["kind", "at"])
    db.table("outbox").create(
        {
            "id": int,
            "idempotency_key": str,
            "kind": str,
            "case_id": int,
            "payload": str,
            "status": str,
            "attempts": int,
            "next_attempt_at": str,
            "created_at": str,
            "done_at": str,
            "result": str,
            "last_error": str,
        },
        pk="id",
        not_null={"idempotency_key", "kind", "status", "created_at"},
        defaults={"status": "pending", "attempts": 0},
    )
    db.table("outbox").create_index(["idempotency_key"], unique=True)
    db.table("outbox").create_index(["status", "next_attempt_at"])
    db.table("cursors").create(
        {"connector": str, "value": str, "updated_at": str, "resume_after": str, "details": str},
        pk="connector",
    )
    db.table("labels").create(
        {
            "id": int,
            "case_id": int,
            "mention_id": int,
            "text": str,
            "is_complaint": int,
            "category": str,
            "reason": str,
            "actor": str,
            "created_at": str,
        },
        pk="id",
        not_null={"text", "is_complaint", "created_at"},
    )
    db.table("privacy_requests").create(
        {
            "id": int,
            "case_id": int,
            "platform": str,
            "author_handle": str,
            "received_at": str,
            "nature": str,
            "method": str,
            "acknowledge_due_at": str,
            "respond_due_at": str,
            "extended": int,
            "acknowledged_at": str,
            "responded_at": str,
            "response": str,
            "denial_basis": str,
        },
        pk="id",
        not_null={"received_at", "nature", "method"},
        defaults={"extended": 0},
    )


@migrations(name="0002_response_times")
def _response_times(db: sqlite_utils.Database) -> None:
    """Elapsed running time (as the case's SLA clock counts it) kept on the case for reporting."""
    cases = db.table("cases")
    cases.add_column("paused_seconds", int, not_null_default=0)
    cases.add_column("first_response_seconds", int)
    cases.add_column("resolution_seconds", int)
    for columns in (["first_response_at"], ["resolved_at"], ["closed_at"]):
        cases.create_index(columns)


@migrations(name="0003_approvals")
def _approvals(db: sqlite_utils.Database) -> None:
    """Who approved which reply text, and where it was posted."""
    cases = db.table("cases")
    for column in (
        "reply_text",
        "approved_by",
        "approved_at",
        "reply_id",
        "reply_url",
        "replied_at",
    ):
        cases.add_column(column, str)


@migrations(name="0004_digests")
def _digests(db: sqlite_utils.Database) -> None:
    """The weekly digest's posting log and the covering indexes its queries range over."""
    create_digest_schema(db)


@migrations(name="0005_action_receipts")
def _action_receipts(db: sqlite_utils.Database) -> None:
    """One row per Slack interaction carried out, so a redelivered or replayed one is a no-op."""
    db.table("action_receipts").create(
        {"key": str, "at": str, "actor": str}, pk="key", not_null={"at"}
    )
    db.table("action_receipts").create_index(["at"])


@migrations(name="0006_privacy_and_audit")
def _privacy_and_audit(db: sqlite_utils.Database) -> None:
    """Privacy requests with their clocks and status, the request log, and the audit chain
    over the case register and the request log (see bot/audit.py)."""
    requests = db.table("privacy_requests")
    for column, kind in (
        ("requester_id", str),
        ("status", str),
        ("acknowledge_warn_at", str),
        ("respond_warn_at", str),
        ("extension_reason", str),
        ("extended_at", str),
        ("closed_at", str),
        ("updated_at", str),
    ):
        requests.add_column(column, kind)
    for column in (
        "acknowledge_warned",
        "acknowledge_breached",
        "respond_warned",
        "respond_breached",
    ):
        requests.add_column(column, int, not_null_default=0)
    db.execute("UPDATE privacy_requests SET status = 'received' WHERE status IS NULL")
    requests.create_index(["status", "respond_due_at"], if_not_exists=True)
    requests.create_index(["case_id"], if_not_exists=True)
    db.table("privacy_log").create(
        {
            "id": int,
            "request_id": int,
            "at": str,
            "actor": str,
            "kind": str,
            "details": str,
            "salt": str,
            "content_digest": str,
            "chain": str,
        },
        pk="id",
        not_null={"request_id", "at", "actor", "kind"},
    )
    db.table("privacy_log").create_index(["request_id"])
    events = db.table("case_events")
    for column in ("salt", "content_digest", "chain"):
        events.add_column(column, str)
    db.table("audit_anchors").create(
        {"log": str, "after_id": int, "chain": str, "at": str}, pk="log"
    )
    seal_existing(db, "case_events")


@migrations(name="0007_installation")
def _installation(db: sqlite_utils.Database) -> None:
    """Facts about this installation, such as when the bot first ran on this store."""
    db.table("installation").create({"key": str, "value": str}, pk="key")


@migrations(name="0008_legal_approval")
def _legal_approval(db: sqlite_utils.Database) -> None:
    """An edited reply on a legal-flagged case waits for the legal owner's approval: the text,
    who approved it first and when, whose approval it waits for, the reason an approver gave
    for dropping a safety instruction from it, and who gave the legal approval."""
    cases = db.table("cases")
    for column in (
        "legal_pending_text",
        "legal_pending_by",
        "legal_pending_at",
        "legal_pending_for",
        "legal_pending_reason",
        "legal_approved_by",
    ):
        cases.add_column(column, str)


@migrations(name="0009_case_desk")
def _case_desk(db: sqlite_utils.Database) -> None:
    """The staff desk's case actions: why a case is paused, the CLRA cure clock's once-only
    warning and breach marks, the ADR body a case was referred to, and its internal notes."""
    cases = db.table("cases")
    cases.add_column("pause_reason", str)
    for column in ("clra_warned", "clra_breached", "notes_count"):
        cases.add_column(column, int, not_null_default=0)
    cases.add_column("adr_referred_to", str)
    cases.add_column("adr_referred_at", str)


@migrations(name="0010_learning_loop")
def _learning_loop(db: sqlite_utils.Database) -> None:
    """Every staff decision is a label (bot/learning/labels.py): which kind of decision, the
    final flags, and the register row it came from; and the log of retrains (figures before
    and after, promoted or not) that the digest's classifier-health section reports."""
    labels = db.table("labels")
    labels.add_column("kind", str)
    labels.add_column("flags", str)
    labels.add_column("event_id", int)
    db.execute("UPDATE labels SET kind = 'dismissed', flags = '[]' WHERE kind IS NULL")
    labels.create_index(["mention_id"], if_not_exists=True)
    db.table("retrains").create(
        {
            "id": int,
            "at": str,
            "promoted": int,
            "version": str,
            "current_version": str,
            "labels": int,
            "before": str,
            "after": str,
            "reason": str,
        },
        pk="id",
        not_null={"at", "promoted", "reason"},
    )


@migrations(name="0011_card_permalink")
def _card_permalink(db: sqlite_utils.Database) -> None:
    """The link to each case's card (``chat.getPermalink``), kept with the card so every
    alert about the case can point at it."""
    db.table("cases").add_column("card_permalink", str)


# Covering indexes. A breakdown column leads (platform, category, priority) so that
# "col IN (...) AND time range GROUP BY col" walks one short range per value, already
# grouped; a time column leads where only counts are needed.
INDEXES: dict[str, list[list[str]]] = {
    "mentions": [
        ["platform", "created_at", "is_complaint"],
        ["is_complaint", "category", "created_at"],
    ],
    "cases": [
        ["category", "priority", "opened_at"],
        ["opened_at", "status"],
        ["first_response_at", "first_response_seconds"],
        ["resolved_at", "resolution_seconds"],
        ["priority", "ack_due_at", "status", "first_response_at", "resolved_at"],
        ["priority", "resolve_due_at", "status", "resolved_at"],
        ["closed_at", "status"],
    ],
    "labels": [["case_id"]],
}


def create_digest_schema(db: sqlite_utils.Database) -> None:
    """Migration 0004_digests: the posting log, plus indexes for the digest's range queries."""
    db.table("digests").create(
        {
            "week": str,
            "status": str,
            "channel": str,
            "message_ts": str,
            "file_id": str,
            "claimed_at": str,
            "posted_at": str,
            "attempts": int,
            "last_error": str,
        },
        pk="week",
        not_null={"status", "claimed_at"},
        defaults={"attempts": 0},
        if_not_exists=True,
    )
    for table, index_list in INDEXES.items():
        for columns in index_list:
            db.table(table).create_index(columns, if_not_exists=True)
    # Repeat complainers are few: a partial index holds just their authors.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_cases_repeat_opened_at"
        " ON cases (opened_at, platform, author_id) WHERE repeat_complainer = 1"
    )


@migrations(name="0012_incidents")
def _incidents(db: sqlite_utils.Database) -> None:
    """Incidents (bot/incidents/): one row per burst of similar complaints, the link of each
    case to its incident (written by the case book, bot/cases/incidents.py), and each recent
    complaint's sentence vector and key terms, which the grouping compares new ones against
    (one indexed range per category)."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS incidents (id INTEGER PRIMARY KEY, category TEXT NOT NULL,"
        " status TEXT NOT NULL, terms TEXT NOT NULL, centroid BLOB NOT NULL, size INTEGER"
        " NOT NULL DEFAULT 0, opened_at TEXT NOT NULL, first_seen_at TEXT NOT NULL,"
        " last_seen_at TEXT NOT NULL, draft_template TEXT, approved_by TEXT, approved_at TEXT,"
        " first_response_at TEXT, resolved_by TEXT, resolved_at TEXT, slack_channel TEXT,"
        " slack_ts TEXT, card_permalink TEXT, version INTEGER NOT NULL DEFAULT 0,"
        " card_queued INTEGER)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_incidents_open"
        " ON incidents (category, status, last_seen_at)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_incidents_opened ON incidents (opened_at)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS incident_cases (case_id INTEGER PRIMARY KEY,"
        " incident_id INTEGER NOT NULL, role TEXT NOT NULL, joined_at TEXT NOT NULL,"
        " carded INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_incident_cases_incident ON incident_cases (incident_id)"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS complaint_vectors (case_id INTEGER PRIMARY KEY,"
        " category TEXT NOT NULL, seen_at TEXT NOT NULL, vector BLOB NOT NULL,"
        " terms TEXT NOT NULL, risky INTEGER NOT NULL DEFAULT 0, incident_id INTEGER)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_complaint_vectors_recent"
        " ON complaint_vectors (category, seen_at)"
    )
