"""The tables of DESIGN §5, in SQLAlchemy Core. Admins query them: names are a contract.

Each record of `engine.store.records` maps to one table, column for field, with the same names,
so a record's fields are its row. `timers` and `deadlines` have no records and no writer: the
schema carries the columns DESIGN §3.5 and §4.3 call for, and nothing fills them.

Conventions:
- Instance ids are the text qaflow prints (UUIDv7); times are `UTCDateTime`; JSON-form data
  is canonical JSON text (`JSONText` and friends); `canonical` and payload bodies are bytes.
- Logs written in order (`outbox`, `security_log`, `access_log`) have an autoincrementing
  integer key, which is the order they were written in.
- Foreign keys are DEFERRABLE INITIALLY DEFERRED: they are checked at commit, so the order
  of writes inside one unit of work doesn't matter, while nothing dangling is ever committed.
  The security and access logs have none: they may name an instance that does not exist.
- History is append-only: the migration adds SQLite triggers refusing UPDATE and DELETE.

`storage/migrations` must produce exactly these tables; `storage.migrate.check` (alembic
check) proves it in the tests.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

from storage.columns import JSONText, JSONTuple, JSONTupleMap, UTCDateTime

__all__ = [
    "NAMING_CONVENTION",
    "access_log",
    "deadlines",
    "definitions",
    "history",
    "history_payloads",
    "idempotency_keys",
    "instances",
    "metadata",
    "outbox",
    "security_log",
    "state_entries",
    "timers",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# BIGINT on PostgreSQL; exactly INTEGER on SQLite, where only `INTEGER PRIMARY KEY` is the rowid.
_Serial = BigInteger().with_variant(Integer(), "sqlite")


definitions = Table(
    "definitions",
    metadata,
    Column("workflow", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("hash", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("format", Integer, nullable=False),
    Column("functions", JSONTuple, nullable=False),
    Column("deployed_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("workflow", "version"),
)

instances = Table(
    "instances",
    metadata,
    Column("id", Text, nullable=False),
    Column("workflow", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition_hash", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("entered_from", Text, nullable=True),
    Column("data", JSONText, nullable=False),
    Column("assignees", JSONText, nullable=False),
    Column("holders", JSONTupleMap, nullable=False),
    Column("lock_version", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("parent_id", Text, nullable=True),
    PrimaryKeyConstraint("id"),
    ForeignKeyConstraint(["workflow", "version"], ["definitions.workflow", "definitions.version"], deferrable=True, initially="DEFERRED"),
    ForeignKeyConstraint(["parent_id"], ["instances.id"], deferrable=True, initially="DEFERRED"),
    # uow.instances.list: by workflow (and state), in id order, without a sort
    Index("ix_instances_workflow_state_id", "workflow", "state", "id"),
    Index("ix_instances_parent_id", "parent_id"),
)

history = Table(
    "history",
    metadata,
    Column("instance_id", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("from_state", Text, nullable=True),
    Column("to_state", Text, nullable=True),
    Column("workflow", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition_hash", Text, nullable=False),
    Column("payload_hash", Text, nullable=False),
    Column("previous_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("canonical", LargeBinary, nullable=False),
    # the primary key is also the "history of one instance, in order" index
    PrimaryKeyConstraint("instance_id", "seq"),
    ForeignKeyConstraint(["instance_id"], ["instances.id"], deferrable=True, initially="DEFERRED"),
)

history_payloads = Table(
    "history_payloads",
    metadata,
    Column("instance_id", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("body", LargeBinary, nullable=True),  # NULL once redacted
    Column("redacted_at", UTCDateTime, nullable=True),
    PrimaryKeyConstraint("instance_id", "seq"),
    ForeignKeyConstraint(["instance_id", "seq"], ["history.instance_id", "history.seq"], deferrable=True, initially="DEFERRED"),
)

state_entries = Table(
    "state_entries",
    metadata,
    Column("instance_id", Text, nullable=False),
    Column("seq", Integer, nullable=False),  # the history row that made the entry
    Column("state", Text, nullable=False),
    Column("entered_from", Text, nullable=True),
    Column("entered_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("instance_id", "seq"),
    ForeignKeyConstraint(["instance_id", "seq"], ["history.instance_id", "history.seq"], deferrable=True, initially="DEFERRED"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Text, nullable=False),
    Column("instance_id", Text, nullable=False),
    Column("entry_seq", Integer, nullable=False),  # the state entry the timer belongs to
    Column("trigger", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("id"),
    ForeignKeyConstraint(
        ["instance_id", "entry_seq"], ["state_entries.instance_id", "state_entries.seq"], deferrable=True, initially="DEFERRED"
    ),
    Index("ix_timers_due_at", "due_at"),  # timers by due time
    Index("ix_timers_instance_id_entry_seq", "instance_id", "entry_seq"),  # leaving a state
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("instance_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("armed_at", UTCDateTime, nullable=False),
    Column("met_at", UTCDateTime, nullable=True),
    Column("breached_at", UTCDateTime, nullable=True),
    Column("calendar_version", Text, nullable=True),  # None for exact (hours, minutes) spans
    PrimaryKeyConstraint("instance_id", "name"),
    ForeignKeyConstraint(["instance_id"], ["instances.id"], deferrable=True, initially="DEFERRED"),
    Index("ix_deadlines_due_at", "due_at"),  # deadlines by due time
)

outbox = Table(
    "outbox",
    metadata,
    Column("serial", _Serial, nullable=False, autoincrement=True),  # the order written
    Column("id", Text, nullable=False),
    Column("instance_id", Text, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", Text, nullable=False),
    Column("roles", JSONTuple, nullable=False),
    Column("recipients", JSONTuple, nullable=False),
    Column("template", Text, nullable=True),
    Column("message", Text, nullable=True),
    Column("urgent", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("not_after", UTCDateTime, nullable=True),  # past it, a sender marks the message expired
    Column("dedup_key", Text, nullable=False),
    Column("status", Text, nullable=False),
    PrimaryKeyConstraint("serial"),
    UniqueConstraint("id"),
    ForeignKeyConstraint(["instance_id"], ["instances.id"], deferrable=True, initially="DEFERRED"),
    Index("ix_outbox_status_serial", "status", "serial"),  # pending messages, in order
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("request_hash", Text, nullable=False),
    Column("result", JSONText, nullable=False),
    Column("instance_id", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("scope", "key"),
    ForeignKeyConstraint(["instance_id"], ["instances.id"], deferrable=True, initially="DEFERRED"),
)

security_log = Table(
    "security_log",
    metadata,
    Column("id", _Serial, nullable=False, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("roles", JSONTuple, nullable=False),
    Column("instance_id", Text, nullable=True),
    Column("workflow", Text, nullable=True),
    Column("trigger", Text, nullable=True),
    Column("reasons", JSONTuple, nullable=False),
    Column("message", Text, nullable=False),
    PrimaryKeyConstraint("id"),
    Index("ix_security_log_instance_id_id", "instance_id", "id"),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", _Serial, nullable=False, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("reader", Text, nullable=False),
    Column("instance_id", Text, nullable=True),
    Column("action", Text, nullable=False),
    PrimaryKeyConstraint("id"),
    Index("ix_access_log_instance_id_id", "instance_id", "id"),
)
