"""History rows: their canonical bytes, the hash chain, and `verify` (DESIGN §4.5).

Each row's canonical form is a JSON object with sorted keys and no spaces:

    {"actor":…,"at":…,"definition_hash":…,"from":…,"instance_id":…,"payload_hash":…,
     "previous_hash":…,"recorded_at":…,"role":…,"seq":…,"to":…,"trigger":…,"version":…,
     "workflow":…}

Its hash is SHA-256 (or HMAC-SHA256 with the deployment's key) of exactly those bytes, which
are stored with the row. The first row's previous hash is the hash of the canonical
`{"instance_id":…,"version":…,"workflow":…}`. The payload (data written, data changes,
assignments, comment) is hashed on its own into `payload_hash`, so the chain covers the
payload's hash rather than its bytes: removing a payload body leaves the chain verifiable.

The row's bytes are assembled from a fixed template rather than by `json.dumps` of a dict:
the keys and their order never change, the strings go through the same C escaping
`json.dumps` uses, and this runs on every event (the template is checked against
`canonical.dumps` in the tests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from engine.canonical import dumps, dumps_text, format_time, loads, nfc
from engine.results import HistoryEntry, InstanceCheck
from engine.store.records import HistoryPayload, HistoryRow, InstanceRecord

MAX_PAYLOAD_BYTES = 1_000_000  # one event's data; anything bigger is a mistake or an attack


# The payload of an event that writes, assigns and says nothing (`payload_bytes`).
EMPTY_PAYLOAD = b'{"assign":{},"changes":{},"comment":null,"data":{}}'


class ChainHasher:
    """SHA-256, or HMAC-SHA256 when a key is given (DESIGN §4.5), as lowercase hex."""

    def __init__(self, key: bytes | None = None) -> None:
        self.key = key
        self.algorithm = "hmac-sha256" if key else "sha256"
        # bound once: `digest` runs twice per event
        self.digest: Callable[[bytes], str] = (lambda data: hmac.digest(key, data, "sha256").hex()) if key else _sha256_hex
        self.empty_payload_hash = self.digest(EMPTY_PAYLOAD)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def genesis_hash(hasher: ChainHasher, instance_id: str, workflow: str, version: int) -> str:
    """The previous hash of an instance's first row."""
    return hasher.digest(dumps({"instance_id": instance_id, "version": version, "workflow": nfc(workflow)}))


def payload_bytes(
    assigned: Mapping[str, str],
    changes: Mapping[str, Any],
    comment: str | None,
    written: Mapping[str, Any],
    on_behalf_of: str | None = None,
) -> bytes:
    """Canonical bytes of one event's payload: `{"assign","changes","comment","data"[,"on_behalf_of"]}`.

    Values are already in JSON form with NFC strings. Assembled around `dumps_text` of each
    part because most parts of most events are empty.
    """
    if not assigned and not changes and comment is None and not written and on_behalf_of is None:
        return EMPTY_PAYLOAD
    text = f'{{"assign":{_object(assigned)},"changes":{_object(changes)},"comment":{_text(comment)},"data":{_object(written)}' + (
        f',"on_behalf_of":{_text(nfc(on_behalf_of))}}}' if on_behalf_of is not None else "}"
    )
    return text.encode("utf-8")


def _object(value: Mapping[str, Any]) -> str:
    return dumps_text(value) if value else "{}"


def _text(value: str | None) -> str:
    """A JSON string (escaped exactly as `json.dumps` does), or null. The text must be NFC."""
    return "null" if value is None else encode_basestring(value)


def row_bytes(
    *,
    instance_id: str,
    seq: int,
    at: str,
    recorded_at: str,
    actor: str,
    role: str,
    trigger: str,
    from_state: str | None,
    to_state: str | None,
    workflow: str,
    version: int,
    definition_hash: str,
    payload_hash: str,
    previous_hash: str,
) -> bytes:
    """The canonical bytes of a history row (`at` and `recorded_at` already formatted).

    Every string is escaped, so no value can pass for another column's text; hashes and
    times go into the template as they are, so they must look like hashes and times.

    Raises:
        ValueError: a hash or time that does not (a tampered row, found by `verify`).
    """
    for value in (definition_hash, payload_hash, previous_hash):
        if not _HASH.fullmatch(value):
            raise ValueError(f"{value!r} is not a hash")
    for value in (at, recorded_at):
        if not _TIME.fullmatch(value):
            raise ValueError(f"{value!r} is not a canonical time")
    e = encode_basestring
    return _row(
        e(actor),
        at,
        definition_hash,
        _text(from_state),
        e(instance_id),
        payload_hash,
        previous_hash,
        recorded_at,
        e(role),
        seq,
        _text(to_state),
        e(trigger),
        version,
        e(workflow),
    )


_HASH = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def _row(
    actor: str,
    at: str,
    definition_hash: str,
    from_state: str,
    instance_id: str,
    payload_hash: str,
    previous_hash: str,
    recorded_at: str,
    role: str,
    seq: int,
    to_state: str,
    trigger: str,
    version: int,
    workflow: str,
) -> bytes:
    """The one template of a row's canonical bytes. Hashes and times are bare (they need no
    escaping); every other string argument is already JSON text."""
    return (
        f'{{"actor":{actor},"at":"{at}","definition_hash":"{definition_hash}","from":{from_state},'
        f'"instance_id":{instance_id},"payload_hash":"{payload_hash}","previous_hash":"{previous_hash}",'
        f'"recorded_at":"{recorded_at}","role":{role},"seq":{int(seq)},"to":{to_state},"trigger":{trigger},'
        f'"version":{int(version)},"workflow":{workflow}}}'
    ).encode()


@dataclass(frozen=True, slots=True)
class RowDefinition:
    """What every history row of one compiled definition shares: its workflow, version and
    hash, and `names`, the JSON text of each of its state, role, trigger and workflow names
    (with None as `null`), escaped once when the definition is compiled."""

    workflow: str
    version: int
    definition_hash: str
    names: Mapping[str | None, str]


def build_row(
    hasher: ChainHasher,
    definition: RowDefinition,
    *,
    instance_id: str,
    seq: int,
    at: dt.datetime,
    recorded_at: dt.datetime,
    actor: str,
    role: str,
    trigger: str,
    from_state: str | None,
    to_state: str | None,
    payload: bytes,
    previous_hash: str,
) -> HistoryRow:
    """A new history row chained to `previous_hash`, hashing its payload's bytes.

    On this path every value is known to need no escaping (hex hashes, formatted times, a
    UUID) or was escaped when the definition was compiled (`definition.names`), except the
    actor's id and the instance id.
    """
    at_text = format_time(at)
    # one clock for both times (the usual case) is one formatting
    recorded_text = at_text if recorded_at is at else format_time(recorded_at)
    workflow, version, definition_hash, names = definition.workflow, definition.version, definition.definition_hash, definition.names
    digest = hasher.digest
    # Most events write nothing: their payload is always the same bytes, hashed once.
    payload_hash = hasher.empty_payload_hash if payload is EMPTY_PAYLOAD else digest(payload)
    canonical = _row(
        encode_basestring(actor),
        at_text,
        definition_hash,
        names[from_state],
        encode_basestring(instance_id),
        payload_hash,
        previous_hash,
        recorded_text,
        names[role],
        seq,
        names[to_state],
        names[trigger],
        version,
        names[workflow],
    )
    return HistoryRow.fast(
        instance_id,
        seq,
        at,
        recorded_at,
        actor,
        role,
        trigger,
        from_state,
        to_state,
        workflow,
        version,
        definition_hash,
        payload_hash,
        previous_hash,
        digest(canonical),
        canonical,
    )


def entry_of(row: HistoryRow, payload: HistoryPayload | None) -> HistoryEntry:
    """A row and its payload as the API shows them."""
    body: dict[str, Any] | None = loads(payload.body) if payload is not None and payload.body is not None else None
    return HistoryEntry(
        seq=row.seq,
        at=row.at,
        recorded_at=row.recorded_at,
        actor=row.actor,
        role=row.role,
        trigger=row.trigger,
        from_state=row.from_state,
        to_state=row.to_state,
        changes=None if body is None else body["changes"],
        data=None if body is None else body["data"],
        assigned=None if body is None else body["assign"],
        comment=None if body is None else body["comment"],
        hash=row.hash,
        redacted=body is None,
    )


# --- verify ----------------------------------------------------------------------------


class _Replay:
    """An instance rebuilt from its history: state, entry, data, assignees, holders."""

    def __init__(self) -> None:
        self.state: str | None = None
        self.entered_from: str | None = None
        self.data: dict[str, Any] = {}
        self.assignees: dict[str, str] = {}
        self.holders: dict[str, set[str]] = {}

    def apply_row(self, row: HistoryRow) -> str | None:
        """Move as the row says; a problem when the row does not follow from what came before."""
        if row.seq == 1:
            if row.from_state is not None or row.to_state is None:
                return "the first row is not a start"
            self.state = row.to_state
        else:
            if row.from_state != self.state:
                return f"row says it left '{row.from_state}', but the instance was in '{self.state}'"
            if row.to_state is not None:
                if row.to_state != row.from_state:
                    self.entered_from = row.from_state
                self.state = row.to_state
        if row.role != "system":
            self.holders.setdefault(row.role, set()).add(row.actor)
        return None

    def apply_payload(self, body: Mapping[str, Any]) -> None:
        for name, value in body["changes"].items():
            if value is None:
                self.data.pop(name, None)
            else:
                self.data[name] = value
        self.assignees.update(body["assign"])

    def mismatch(self, record: InstanceRecord, *, with_payloads: bool) -> str | None:
        """What of the instance row differs from the replay (data and people only with payloads)."""
        if record.state != self.state:
            return f"the instance is in '{record.state}' but its history ends in '{self.state}'"
        if record.entered_from != self.entered_from:
            return "the instance's 'entered from' state does not match its history"
        if not with_payloads:
            return None
        if dict(record.data) != self.data:
            fields = sorted(set(record.data) ^ set(self.data) | {k for k in record.data if record.data.get(k) != self.data.get(k)})
            return f"the instance's data does not match its history ({', '.join(fields)})"
        if dict(record.assignees) != self.assignees:
            return "the instance's assignees do not match its history"
        holders = {role: tuple(sorted(people)) for role, people in self.holders.items()}
        if {role: tuple(people) for role, people in record.holders.items()} != holders:
            return "the people recorded as having acted in each role do not match the history"
        return None


def verify_instance(
    hasher: ChainHasher, record: InstanceRecord, rows: list[HistoryRow], payloads: Mapping[int, HistoryPayload]
) -> InstanceCheck:
    """Check one instance's chain, stored bytes, payloads, head and replayed state."""
    replay = _Replay()
    previous = genesis_hash(hasher, record.id, record.workflow, record.version)
    redacted = False

    def broken(seq: int, problem: str) -> InstanceCheck:
        return InstanceCheck(record.id, "broken", len(rows), seq, problem)

    for expected, row in enumerate(rows, start=1):
        if row.seq != expected:
            return broken(expected, f"row {expected} is missing or out of order (found seq {row.seq})")
        if row.instance_id != record.id or row.workflow != record.workflow:
            return broken(expected, "the row belongs to another instance or workflow")
        try:
            rebuilt = row_bytes(
                instance_id=row.instance_id,
                seq=row.seq,
                at=format_time(row.at),
                recorded_at=format_time(row.recorded_at),
                actor=row.actor,
                role=row.role,
                trigger=row.trigger,
                from_state=row.from_state,
                to_state=row.to_state,
                workflow=row.workflow,
                version=row.version,
                definition_hash=row.definition_hash,
                payload_hash=row.payload_hash,
                previous_hash=row.previous_hash,
            )
        except ValueError as exc:
            return broken(expected, f"the row's columns are not well formed ({exc})")
        if rebuilt != row.canonical:
            return broken(expected, "the row's columns do not match its stored canonical bytes")
        if hasher.digest(row.canonical) != row.hash:
            return broken(expected, "the row's hash does not match its bytes")
        if row.previous_hash != previous:
            return broken(expected, "the row does not follow the row before it (previous hash)")
        previous = row.hash
        problem = replay.apply_row(row)
        if problem:
            return broken(expected, problem)
        payload = payloads.get(row.seq)
        if payload is None:
            return broken(expected, "the row's payload is missing")
        if payload.body is None:
            redacted = True
            continue
        if hasher.digest(payload.body) != row.payload_hash:
            return broken(expected, "the payload does not match the row's payload hash")
        replay.apply_payload(loads(payload.body))
    head = len(rows)
    if record.last_seq != head:
        first = min(record.last_seq, head) + 1
        return broken(first, f"the instance's chain head is row {record.last_seq}, but its history has {head} row(s)")
    if head and record.last_hash != previous:
        return broken(head, "the instance's chain head hash does not match its last row")
    problem = replay.mismatch(record, with_payloads=not redacted)
    if problem:
        return broken(head, problem)
    return InstanceCheck(record.id, "redacted" if redacted else "ok", head)
