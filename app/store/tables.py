"""The store's tables: a tracker-neutral copy of the trackers plus what Throughline derives.

Items, links and transitions are keyed on the tracker's own stable identifiers so a pull
and a webhook describing the same change land on the same row. Every datetime is UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.store.engine import Base, UTCDateTime, word_column
from vocabulary import EventState, ItemKind, RunMode, RunStatus, StatusCategory

JSONDict = dict[str, Any]
MAX_ROW_ID = 2**31 - 1
"""Row ids are 32-bit integers on both databases: a larger number names no row (and is
refused before it reaches a query, which would fail on it)."""


class SourceRow(Base):
    """A configured tracker connection; the configuration file is its source of truth."""

    __tablename__ = "source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    base_url: Mapped[str] = mapped_column(String(512))
    options: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ItemRow(Base):
    """One issue, task, epic or milestone as the tracker last described it."""

    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_item_source_key", "source_id", "key"),
        Index("ix_item_source_parent", "source_id", "parent_key"),
        Index("ix_item_source_project", "source_id", "project"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(1024))
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[ItemKind] = mapped_column(word_column(ItemKind))
    issue_type: Mapped[str | None] = mapped_column(String(64))
    hierarchy_level: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(128))
    status_category: Mapped[StatusCategory] = mapped_column(word_column(StatusCategory))
    project: Mapped[str | None] = mapped_column(String(128))
    projects: Mapped[list[str]] = mapped_column(JSON, default=list)
    section: Mapped[str | None] = mapped_column(String(256))
    parent_key: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(256))
    assignee_email: Mapped[str | None] = mapped_column(String(256))
    estimate: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    components: Mapped[list[str]] = mapped_column(JSON, default=list)
    fix_versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom_fields: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LinkRow(Base):
    """A directed dependency ``from`` → ``to`` (``from`` blocks ``to``) as one item reports it.

    Each item owns the set of links its own record lists (``origin``); a link reported by
    both ends is stored twice and deduplicated when read. Re-syncing an item replaces
    exactly its own set, so a removed link disappears without touching anyone else's.
    Endpoints are (source name, key) pairs and may cross projects and trackers.
    """

    __tablename__ = "link"
    __table_args__ = (
        UniqueConstraint(
            "origin_source_id",
            "origin_external_id",
            "from_source",
            "from_key",
            "to_source",
            "to_key",
            "kind",
        ),
        Index("ix_link_from", "from_source", "from_key"),
        Index("ix_link_to", "to_source", "to_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin_source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    origin_external_id: Mapped[str] = mapped_column(String(64))
    origin_updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_source: Mapped[str] = mapped_column(String(64))
    from_key: Mapped[str] = mapped_column(String(64))
    to_source: Mapped[str] = mapped_column(String(64))
    to_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    link_type: Mapped[str | None] = mapped_column(String(128))


class TransitionRow(Base):
    """One status change of an item; the history behind throughput and cycle time."""

    __tablename__ = "transition"
    __table_args__ = (
        UniqueConstraint("source_id", "item_external_id", "external_id"),
        Index("ix_transition_source_at", "source_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    item_external_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_status: Mapped[str | None] = mapped_column(String(128))
    to_status: Mapped[str] = mapped_column(String(128))
    from_category: Mapped[str | None] = mapped_column(String(16))
    to_category: Mapped[str | None] = mapped_column(String(16))
    author: Mapped[str | None] = mapped_column(String(256))


class ProjectStatusRow(Base):
    """The latest status a team posted for its project (an Asana status update).

    One row per project: a newer update replaces it, an older one never does.
    """

    __tablename__ = "project_status"
    __table_args__ = (UniqueConstraint("source_id", "project"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    project: Mapped[str] = mapped_column(String(64))
    project_name: Mapped[str | None] = mapped_column(String(256))
    external_id: Mapped[str] = mapped_column(String(64))
    status_type: Mapped[str] = mapped_column(String(32))
    color: Mapped[str] = mapped_column(String(8))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(256))
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProjectRow(Base):
    """A tracker project's name, by the id items carry (an Asana project's gid): pages and
    reports name projects, never show their ids. The latest name read wins."""

    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("source_id", "project"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    project: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SyncStateRow(Base):
    """The incremental cursor of one source and scope (a project, or the whole source)."""

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("source_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(256))
    cursor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    token: Mapped[str | None] = mapped_column(Text)
    """An opaque resume token the tracker issued for this scope (e.g. an Asana sync token)."""
    last_run_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_run_status: Mapped[RunStatus | None] = mapped_column(word_column(RunStatus))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_census_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checkpoint: Mapped[str | None] = mapped_column(String(64))
    """How far a listing of the scope got (the last id swept), written with the rows it
    covers; a sync cut short continues after it, and the scope's end clears it."""
    checkpoint_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The ``since`` of the listing the checkpoint belongs to (null: a full listing)."""
    checkpoint_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the listing the checkpoint belongs to began: the resumed scope's cursor never
    passes it, so what changed since is read again by the next sync."""


class SyncRunRow(Base):
    """One sync of one source: when, what it did, and how it ended."""

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    mode: Mapped[RunMode] = mapped_column(word_column(RunMode))
    """full | incremental | census | refetch"""
    status: Mapped[RunStatus] = mapped_column(word_column(RunStatus))
    """running | succeeded | partial | failed | abandoned"""
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    items_written: Mapped[int] = mapped_column(Integer, default=0)
    links_written: Mapped[int] = mapped_column(Integer, default=0)
    transitions_written: Mapped[int] = mapped_column(Integer, default=0)
    items_deleted: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[JSONDict]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)


class ProgramRow(Base):
    """A program from the configuration, with a row so derived data can refer to it."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    timezone: Mapped[str] = mapped_column(String(64))
    baseline_on: Mapped[date | None] = mapped_column(Date)
    config: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    outcomes: Mapped[list[OutcomeRow]] = relationship(
        back_populates="program", lazy="raise", order_by="OutcomeRow.position"
    )


class OutcomeRow(Base):
    """A business outcome of a program: selectors choose its items, a target dates it."""

    __tablename__ = "outcome"
    __table_args__ = (UniqueConstraint("program_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256))
    position: Mapped[int] = mapped_column(Integer, default=0)
    target_on: Mapped[date | None] = mapped_column(Date)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    selectors: Mapped[list[JSONDict]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    program: Mapped[ProgramRow] = relationship(back_populates="outcomes", lazy="raise")


class RiskRow(Base):
    """A risk: a register entry a person keeps, or one the roll-up derived from the data."""

    __tablename__ = "risk"
    __table_args__ = (
        # Covers the open risks' count by severity read with every status.
        Index("ix_risk_program_open", "program_id", "closed_at", "severity"),
        Index("ix_risk_updated", "updated_at"),
        UniqueConstraint("program_id", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    outcome_key: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))
    """register | derived"""
    rule: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(128))
    """Identity of a derived risk across recomputations (rule + subject); null for register."""
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    probability: Mapped[int | None] = mapped_column(Integer)
    impact: Mapped[int | None] = mapped_column(Integer)
    roam: Mapped[str | None] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(256))
    mitigation: Mapped[str | None] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    evidence: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suggested_owner: Mapped[str | None] = mapped_column(String(256))
    """A derived risk's owner until a person sets ``owner``: the assignee of the item that
    causes it, or its outcome's owner."""
    owner_basis: Mapped[str | None] = mapped_column(String(256))
    """Why ``suggested_owner``: "assignee of PAY-3", "owner of Pay in one click"."""
    decision: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A register entry that asks for a decision (by ``due_on``) rather than a risk."""
    override_probability: Mapped[int | None] = mapped_column(Integer)
    """On a derived risk: the probability a person set over the data's (``probability``)."""
    override_impact: Mapped[int | None] = mapped_column(Integer)
    override_by: Mapped[str | None] = mapped_column(String(256))
    """Who last decided on a derived risk (a token's name), and when."""
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SnapshotRow(Base):
    """How a program (``outcome_key`` empty) or one outcome stood on a day."""

    __tablename__ = "snapshot"
    __table_args__ = (UniqueConstraint("program_id", "outcome_key", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    outcome_key: Mapped[str] = mapped_column(String(64), default="")
    taken_on: Mapped[date] = mapped_column(Date)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scope_count: Mapped[int] = mapped_column(Integer, default=0)
    done_count: Mapped[int] = mapped_column(Integer, default=0)
    scope_estimate: Mapped[float] = mapped_column(Float, default=0.0)
    done_estimate: Mapped[float] = mapped_column(Float, default=0.0)
    rag: Mapped[str] = mapped_column(String(8))
    forecast_p50_on: Mapped[date | None] = mapped_column(Date)
    forecast_p85_on: Mapped[date | None] = mapped_column(Date)
    forecast_p95_on: Mapped[date | None] = mapped_column(Date)
    probability_on_time: Mapped[float | None] = mapped_column(Float)
    forecast: Mapped[JSONDict | None] = mapped_column(JSON)
    """The forecast's basis, its target and verdict that day, and its inputs
    (``rollup.inputs``): what later days explain a move and judge calibration from."""
    data: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    document: Mapped[JSONDict | None] = mapped_column(JSON)
    """On the program's row: its status document, late dependencies and open risks as the
    day ended — what a weekly report of that day is written from."""


class ReportRow(Base):
    """The weekly status page of a program for one ISO week, in every format."""

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("program_id", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    week: Mapped[str] = mapped_column(String(8))
    """ISO week, e.g. 2026-W47"""
    generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snapshot_on: Mapped[date | None] = mapped_column(Date)
    rag: Mapped[str | None] = mapped_column(String(8))
    data: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    html: Mapped[str | None] = mapped_column(Text)
    markdown: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    deliveries: Mapped[list[JSONDict]] = mapped_column(JSON, default=list)
    notes_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When delivery was let go: at generation, or (in review mode) with the notes or an
    explicit send. Null while a report waits for review or was generated on demand."""


class WebhookEventRow(Base):
    """A webhook delivery, stored before it is acknowledged so none is ever lost.

    ``id`` is the order of arrival; the worker drains each source in that order.
    """

    __tablename__ = "webhook_event"
    __table_args__ = (
        UniqueConstraint("source_id", "delivery_id"),
        Index("ix_webhook_event_state", "state", "next_attempt_at"),
        Index("ix_webhook_event_source_state", "source_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(128))
    """Jira's ``X-Atlassian-Webhook-Identifier`` (stable across retries), else a SHA-256 of
    the body (Asana sends no delivery id)."""
    event_type: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    trusted: Mapped[bool] = mapped_column(Boolean, default=True)
    """False for unsigned deliveries an operator allowed: hints to re-fetch, never data."""
    state: Mapped[EventState] = mapped_column(word_column(EventState), default=EventState.PENDING)
    """pending | applied | failed | rejected"""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class WebhookSubscriptionRow(Base):
    """What Throughline knows of a source's webhooks: secrets, registrations, liveness.

    Asana secrets (one per webhook, keyed by the resource named in the target's query) are
    stored sealed with the server's key and never shown. ``handshake_open_until`` and
    ``handshake_resources`` are set by ``throughline webhooks register``: only then, only for
    those resources, once each and never over a kept secret may a handshake set a secret,
    so nobody can plant or replace one by posting a handshake of their own.
    """

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"), unique=True)
    secrets: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    handshake_open_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handshake_resources: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    """The resources whose webhooks the registration under way is creating: each may set
    its secret by one handshake, while ``handshake_open_until`` has not passed."""
    webhook_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Ids the tracker gave the registered webhooks (Asana gids, Jira dynamic ids)."""
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Jira dynamic webhooks expire after 30 days unless refreshed."""
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    store_lag_seconds: Mapped[float | None] = mapped_column(Float)
    """Of the last applied batch: tracker ``updated`` → visible in the store (the worst)."""
    rollup_lag_seconds: Mapped[float | None] = mapped_column(Float)
    """Of the last applied batch: tracker ``updated`` → visible in the roll-up (the worst)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProgramStatusRow(Base):
    """A program's last roll-up, stored whole so that reading a status is one lookup.

    ``status`` is the program document the API serves (outcomes without their
    contributors), ``dependencies`` the dependency map, ``roadmap`` and ``resources``
    the timeline and who carries the work. A recomputation rewrites only the documents
    that came out different (``digests``, computed without their ``computed_at``), and
    ``revision`` counts the times any of them changed; ``computed_at`` is always the
    last recomputation's, whether or not it changed a document. Never written by a read.
    """

    __tablename__ = "program_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(
        ForeignKey("program.id", ondelete="CASCADE"), unique=True
    )
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rag: Mapped[str] = mapped_column(String(8))
    status: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    dependencies: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    roadmap: Mapped[JSONDict] = mapped_column(JSON, default=dict, server_default="{}")
    resources: Mapped[JSONDict] = mapped_column(JSON, default=dict, server_default="{}")
    portfolio: Mapped[JSONDict | None] = mapped_column(JSON)
    """What the portfolio is rebuilt from: the program's figures, its outcomes' forecast
    inputs, the dependencies that leave it, and who works on it."""
    revision: Mapped[int] = mapped_column(default=0, server_default="0")
    digests: Mapped[dict[str, str] | None] = mapped_column(JSON)
    """Per document column, a digest of what was stored (``computed_at`` left out)."""


class OutcomeStatusRow(Base):
    """An outcome's last roll-up, with every contributor behind its figures."""

    __tablename__ = "outcome_status"
    __table_args__ = (UniqueConstraint("program_id", "outcome_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    outcome_key: Mapped[str] = mapped_column(String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rag: Mapped[str] = mapped_column(String(8))
    status: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    digest: Mapped[str | None] = mapped_column(String(64))


class ProgramItemRow(Base):
    """An item behind one of a program's figures, as the last recomputation counted it.

    ``facet`` says which figure: ``outcome`` (a unit of work of the outcome ``name``) or
    ``check`` (an item the data-quality check ``name`` flagged). Items are named by source
    and key, as the roll-up names them, so every count on a page can list its items.
    """

    __tablename__ = "program_item"
    __table_args__ = (
        UniqueConstraint("program_id", "facet", "name", "source_id", "key"),
        Index("ix_program_item_source_key", "source_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    facet: Mapped[str] = mapped_column(String(16))
    """outcome | check"""
    name: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))


class RiskEventRow(Base):
    """A risk opening or closing: the history behind "risks opened and closed since"."""

    __tablename__ = "risk_event"
    __table_args__ = (Index("ix_risk_event_program_at", "program_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("risk.id", ondelete="CASCADE"), index=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    """opened | closed"""


class RiskChangeRow(Base):
    """A change a person made to a risk, or a decision that lapsed with its signal: who,
    when, and each field from what to what. Kept when a register risk is removed."""

    __tablename__ = "risk_change"
    __table_args__ = (Index("ix_risk_change_program_risk", "program_id", "risk_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int | None] = mapped_column(ForeignKey("risk.id", ondelete="SET NULL"))
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(16))
    """created | changed | removed | lapsed"""
    title: Mapped[str] = mapped_column(Text)
    """The risk's title at the time (a removed risk is named by it)."""
    changes: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    """Field → ``{"from": …, "to": …}``."""


class JobRunRow(Base):
    """The latest due time of each scheduled job that some process claimed, and whether
    it finished: how replicas whose schedulers all fire at the same instant run it once.

    A claim is taken and checked under the job's cross-process lock (``app.store.locks``); a
    claim left unfinished by a process that died is taken over by the next one to fire.
    """

    __tablename__ = "job_run"

    job_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    owner: Mapped[str] = mapped_column(String(128))
    """host:pid of the process that claimed it."""


class AlertRow(Base):
    """Something a recomputation (or the sync watch) saw that a program's people should hear
    about at once: a colour change, a high risk opened, a forecast slip, a silent source.

    Every alert is kept, the ones held back as duplicates too; ``deliveries`` records each
    channel's state as a report's do.
    """

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_program_raised", "program_id", "raised_at"),
        Index("ix_alert_status", "status"),
        Index("ix_alert_fingerprint", "program_id", "fingerprint", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    """rag_change | risk_opened | forecast_slip | source_silent"""
    subject: Mapped[str] = mapped_column(String(128))
    """What it is about: an outcome key (empty: the program), a risk id, a source name."""
    fingerprint: Mapped[str] = mapped_column(String(256))
    """Kind, subject and the new value: equal fingerprints within the repeat window are one
    alert."""
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    """pending | sent | failed | duplicate | muted (no channel configured)"""
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    deliveries: Mapped[list[JSONDict]] = mapped_column(JSON, default=list)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertStateRow(Base):
    """What the alerts last saw of one subject of a program (its colour, the P85 a slip is
    measured from, a source's health), so a change is told once."""

    __tablename__ = "alert_state"
    __table_args__ = (UniqueConstraint("program_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(128))
    """``rag:<outcome>``, ``p85:<outcome>`` (empty outcome: the program), ``source:<name>``"""
    value: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DigestRow(Base):
    """The weekly portfolio digest: every program on one page, for the person above the
    program managers; one row per ISO week."""

    __tablename__ = "digest"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    html: Mapped[str] = mapped_column(Text)
    markdown: Mapped[str] = mapped_column(Text)
    deliveries: Mapped[list[JSONDict]] = mapped_column(JSON, default=list)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PortfolioDocumentRow(Base):
    """A portfolio document (``portfolio``, ``dependencies``, ``people``) as the last
    rebuild stored it, built from every program's stored part."""

    __tablename__ = "portfolio_document"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    digest: Mapped[str] = mapped_column(String(64))
    """Of the configuration it was built under: another configuration rebuilds it."""
    document: Mapped[JSONDict] = mapped_column(JSON, default=dict)


class GoalSnapshotRow(Base):
    """How a goal stood at the end of a day: its movement and its held colour read these."""

    __tablename__ = "goal_snapshot"
    __table_args__ = (UniqueConstraint("goal_key", "taken_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_key: Mapped[str] = mapped_column(String(64))
    taken_on: Mapped[date] = mapped_column(Date)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rag: Mapped[str] = mapped_column(String(8))
    percent: Mapped[float | None] = mapped_column(Float)
    p85_on: Mapped[date | None] = mapped_column(Date)
    probability_on_time: Mapped[float | None] = mapped_column(Float)
    verdict: Mapped[str | None] = mapped_column(String(8))
    verdict_raw: Mapped[str | None] = mapped_column(String(8))


class WebSessionRow(Base):
    """A sign-in to the pages (``app.store.web_sessions``): the browser keeps a random
    secret, this row its SHA-256 digest. Deleting the row is signing out everywhere."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 (hex) of the secret in the browser's cookie."""
    principal: Mapped[str] = mapped_column(String(128))
    token_fingerprint: Mapped[str] = mapped_column(String(64))
    """Derived from the token signed in with: a rotated token no longer matches."""
    role: Mapped[str | None] = mapped_column(String(16))
    """For a sign-in through the identity provider: the role its claims gave (a token's
    sign-in leaves it empty: the token's role holds)."""
    groups: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScenarioRow(Base):
    """A what-if scenario someone saved by name, with the answer it had when saved: the
    weekly report's decision section quotes it."""

    __tablename__ = "scenario"
    __table_args__ = (UniqueConstraint("program_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    changes: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    """The request as given: add_items, remove_keys, pace_factor, targets."""
    result: Mapped[JSONDict] = mapped_column(JSON, default=dict)
    """Before and after, and the sentence that says it."""
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())
    saved_by: Mapped[str | None] = mapped_column(String(256))


class AuditRow(Base):
    """One change made through the service (``app.store.audit``): who, when, what, and the
    thing before and after. Never holds a secret: values are cleaned before they land."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_actor_at", "actor", "at"),
        Index("ix_audit_event_action_at", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    """The token's name or the signed-in person (``cli`` for the command line)."""
    action: Mapped[str] = mapped_column(String(64))
    """What was done, as ``thing.verb``: ``risk.create``, ``report.notes``, ``token.revoke``."""
    program: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(256), default="")
    """Which one: a risk id, a week, a source, a token's name."""
    before: Mapped[JSONDict | None] = mapped_column(JSON)
    after: Mapped[JSONDict | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))


class ApiTokenRow(Base):
    """A named API token made with ``throughline tokens create``: only its SHA-256 digest is
    kept (tokens are 256-bit random strings, so a plain digest is safe), with its role,
    groups and expiry. Revoking keeps the row (the audit log names it) and ends its use."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
