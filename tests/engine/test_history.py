"""History (DESIGN §4.5): exact canonical bytes, the hash chain, and `verify` finding tampering.

Tampering is done the way someone with write access to the tables would do it: changing a
column, the stored bytes, a payload, the order (seq values), deleting rows, or changing the
instance row. `verify` must name the instance and the first bad row each time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from engine.canonical import CanonicalError, dumps, format_time, json_text, to_json_value
from engine.history.chain import ChainHasher, RowDefinition, build_row, payload_bytes
from engine.language.loader import load_workflow
from engine.results import Actor
from engine.runtime.engine import Engine
from engine.store.memory import MemoryStore
from engine.time.clock import FixedClock
from engine.time.durations import Duration

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_workflow.yaml"
AT = dt.datetime(2026, 3, 2, 9, 30, 15, 250, tzinfo=dt.UTC)
CLERK = Actor("cl-1", frozenset({"clerk"}))
REVIEWER = Actor("rv-1")
APPROVER = Actor("ap-1", frozenset({"approver"}))
EVENTS = [
    ("submit", CLERK, {"summary": "Quarterly check"}),
    ("triage", REVIEWER, {"due_on": "2026-04-01"}),
    ("begin_review", REVIEWER, None),
    ("review", REVIEWER, {"score": 72, "grade": "good", "notes": ["Clear plan"]}),
    ("approve", APPROVER, None),
]
ROWS = len(EVENTS) + 1


# --- canonical form ------------------------------------------------------------------------

GOLDEN_ROW = (
    b'{"actor":"Zo\xc3\xab","at":"2026-03-02T09:30:15.000250Z","definition_hash":"'
    + b"d" * 64
    + b'","from":"allocated","instance_id":"0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2f","payload_hash":"'
    + b"1d5d6c8d6b1f0d2f6b8b0f7f2c1ac3e9d6f55ae2a1d4e5f1d0c2b3a4958677ab"
    + b'","previous_hash":"'
    + b"a" * 64
    + b'","recorded_at":"2026-03-02T09:30:16.000000Z","role":"auditor","seq":2,"to":"meeting_arranged",'
    b'"trigger":"arrange_meeting","version":3,"workflow":"case_file_audit"}'
)
GOLDEN_PAYLOAD = (
    b'{"assign":{"auditor":"ana"},"changes":{"amount":"12.50","meeting_date":"2026-03-10","note":null},'
    b'"comment":"Caf\xc3\xa9 \\"quoted\\"","data":{"meeting_date":"2026-03-10"}}'
)


def golden_row(payload_hash: str) -> bytes:
    return GOLDEN_ROW.replace(b"1d5d6c8d6b1f0d2f6b8b0f7f2c1ac3e9d6f55ae2a1d4e5f1d0c2b3a4958677ab", payload_hash.encode())


def test_payload_bytes_are_exact() -> None:
    payload = payload_bytes(
        {"auditor": "ana"},
        {"meeting_date": "2026-03-10", "amount": "12.50", "note": None},
        'Café "quoted"',
        {"meeting_date": "2026-03-10"},
    )
    assert payload == GOLDEN_PAYLOAD


def test_row_bytes_are_exact_and_are_canonical_json() -> None:
    hasher = ChainHasher()
    names = {
        None: "null",
        **{name: json_text(name) for name in ("allocated", "meeting_arranged", "auditor", "arrange_meeting", "case_file_audit")},
    }
    row = build_row(
        hasher,
        RowDefinition("case_file_audit", 3, "d" * 64, names),
        instance_id="0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2f",
        seq=2,
        at=AT,
        recorded_at=AT + dt.timedelta(microseconds=999_750),
        actor="Zoë",
        role="auditor",
        trigger="arrange_meeting",
        from_state="allocated",
        to_state="meeting_arranged",
        payload=GOLDEN_PAYLOAD,
        previous_hash="a" * 64,
    )
    assert row.payload_hash == hashlib.sha256(GOLDEN_PAYLOAD).hexdigest()
    assert row.canonical == golden_row(row.payload_hash)
    assert row.hash == hashlib.sha256(row.canonical).hexdigest()
    as_dict = {
        "actor": "Zoë",
        "at": "2026-03-02T09:30:15.000250Z",
        "definition_hash": "d" * 64,
        "from": "allocated",
        "instance_id": "0190f1c2-8d3a-7c4e-9b1f-3a5e7d9c1b2f",
        "payload_hash": row.payload_hash,
        "previous_hash": "a" * 64,
        "recorded_at": "2026-03-02T09:30:16.000000Z",
        "role": "auditor",
        "seq": 2,
        "to": "meeting_arranged",
        "trigger": "arrange_meeting",
        "version": 3,
        "workflow": "case_file_audit",
    }
    assert dumps(as_dict) == row.canonical


def test_values_have_one_canonical_json_form() -> None:
    assert to_json_value(Decimal("1E+2")) == "100"
    assert to_json_value(dt.date(2026, 1, 31)) == "2026-01-31"
    assert to_json_value(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == "2026-07-01T09:00:00.000000Z"
    assert to_json_value(Duration(days=28)) == "P0M28D0WDT0S"
    assert to_json_value({"Cafe\u0301": ["e\u0301"]}) == {"Caf\u00e9": ["\u00e9"]}
    with pytest.raises(CanonicalError):
        to_json_value(1.5)
    with pytest.raises(CanonicalError):
        to_json_value(Decimal("NaN"))


# --- the chain and verify ----------------------------------------------------------------


def run_events(key: bytes | None = None) -> tuple[Engine, MemoryStore, str]:
    store = MemoryStore()
    clock = FixedClock(AT)
    engine = Engine(store, clock=clock, history_key=key)
    engine.deploy(load_workflow(BENCH))
    instance = engine.start("bench_workflow", CLERK, data={"ref": "B-1"}, assign={"reviewer": REVIEWER.id}).id
    for trigger, actor, data in EVENTS:
        clock.advance(dt.timedelta(minutes=5))
        engine.fire(instance, trigger, actor, data)
    return engine, store, instance


@pytest.fixture
def chain() -> tuple[Engine, MemoryStore, str]:
    return run_events()


def assert_broken_at(engine: Engine, instance: str, seq: int) -> None:
    report = engine.verify()
    assert not report.ok
    (check,) = report.broken
    assert (check.instance_id, check.first_bad_seq) == (instance, seq), check.problem


def test_the_chain_verifies(chain: tuple[Engine, MemoryStore, str]) -> None:
    engine, store, instance = chain
    report = engine.verify()
    assert report.ok and [(c.instance_id, c.status, c.rows) for c in report.instances] == [(instance, "ok", ROWS)]
    rows = store.history[instance]
    assert [row.seq for row in rows] == list(range(1, ROWS + 1))
    assert all(later.previous_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
    assert store.instances[instance].last_hash == rows[-1].hash


@pytest.mark.parametrize("seq", range(1, ROWS + 1))
def test_editing_a_column_is_found_at_that_row(chain: tuple[Engine, MemoryStore, str], seq: int) -> None:
    engine, store, instance = chain
    rows = store.history[instance]
    rows[seq - 1] = dataclasses.replace(rows[seq - 1], actor="mallory")
    assert_broken_at(engine, instance, seq)


@pytest.mark.parametrize("seq", range(1, ROWS + 1))
def test_editing_the_stored_bytes_or_hash_is_found_at_that_row(chain: tuple[Engine, MemoryStore, str], seq: int) -> None:
    engine, store, instance = chain
    rows = store.history[instance]
    original = rows[seq - 1]
    rows[seq - 1] = dataclasses.replace(original, canonical=original.canonical.replace(b'"seq"', b'"seq" '))
    assert_broken_at(engine, instance, seq)
    rows[seq - 1] = dataclasses.replace(original, hash="0" * 64)
    assert_broken_at(engine, instance, seq)


@pytest.mark.parametrize("seq", range(1, ROWS + 1))
def test_editing_a_payload_is_found_at_that_row(chain: tuple[Engine, MemoryStore, str], seq: int) -> None:
    engine, store, instance = chain
    body = store.payloads[instance][seq]
    assert body is not None
    store.payloads[instance][seq] = body.replace(b"}", b" }", 1)
    assert_broken_at(engine, instance, seq)


@pytest.mark.parametrize("seq", range(1, ROWS))
def test_reordering_rows_is_found_at_the_first_moved(chain: tuple[Engine, MemoryStore, str], seq: int) -> None:
    engine, store, instance = chain
    rows = store.history[instance]
    first, second = rows[seq - 1], rows[seq]
    rows[seq - 1], rows[seq] = dataclasses.replace(second, seq=first.seq), dataclasses.replace(first, seq=second.seq)
    assert_broken_at(engine, instance, seq)


@pytest.mark.parametrize("seq", range(1, ROWS + 1))
def test_deleting_a_row_is_found_at_that_row(chain: tuple[Engine, MemoryStore, str], seq: int) -> None:
    engine, store, instance = chain
    del store.history[instance][seq - 1]
    del store.payloads[instance][seq]
    assert_broken_at(engine, instance, seq)


@pytest.mark.parametrize(
    "change",
    [
        {"state": "drafted"},
        {"data": {"ref": "B-2"}},
        {"assignees": {"reviewer": "mallory"}},
        {"holders": {}},
        {"entered_from": "drafted"},
        {"last_hash": "0" * 64},
    ],
)
def test_editing_the_instance_row_is_found(chain: tuple[Engine, MemoryStore, str], change: dict[str, object]) -> None:
    engine, store, instance = chain
    record = store.instances[instance]
    if "data" in change:
        change = {"data": {**record.data, **change["data"]}}  # type: ignore[dict-item]
    store.instances[instance] = dataclasses.replace(record, **change)  # type: ignore[arg-type]
    assert_broken_at(engine, instance, ROWS)


def test_a_head_that_claims_more_rows_is_found(chain: tuple[Engine, MemoryStore, str]) -> None:
    engine, store, instance = chain
    store.instances[instance] = dataclasses.replace(store.instances[instance], last_seq=ROWS + 1)
    assert_broken_at(engine, instance, ROWS + 1)


def test_a_redacted_payload_is_reported_redacted_not_broken(chain: tuple[Engine, MemoryStore, str]) -> None:
    engine, store, instance = chain
    store.payloads[instance][2] = None
    report = engine.verify(instance)
    assert report.ok and report.instances[0].status == "redacted"
    entry = engine.history(instance)[1]
    assert entry.redacted and entry.changes is None and entry.trigger == "submit"


def test_hmac_mode_differs_and_verifies_only_with_the_key() -> None:
    key = b"k" * 32
    _, plain_store, plain_id = run_events()
    keyed_engine, keyed_store, keyed_id = run_events(key)
    plain_rows, keyed_rows = plain_store.history[plain_id], keyed_store.history[keyed_id]
    assert all(a.hash != b.hash for a, b in zip(plain_rows, keyed_rows, strict=True))
    first = keyed_rows[0]
    assert first.hash == hmac.new(key, first.canonical, hashlib.sha256).hexdigest()
    assert keyed_engine.verify().ok
    assert not Engine(keyed_store).verify().ok  # without the key, nothing checks out
    assert not Engine(plain_store, history_key=key).verify().ok


def test_history_reads_back_rows_and_payloads(chain: tuple[Engine, MemoryStore, str]) -> None:
    engine, _, instance = chain
    history = engine.history(instance)
    assert [entry.seq for entry in history] == list(range(1, ROWS + 1))
    assert [entry.trigger for entry in history] == ["@start", *(event[0] for event in EVENTS)]
    assert history[0].changes == {"approved": False, "rounds": 0, "ref": "B-1"}
    assert history[0].assigned == {"reviewer": "rv-1"}
    assert history[2].data == {"due_on": "2026-04-01"} and history[2].at == AT + dt.timedelta(minutes=10)
    assert format_time(history[-1].at) == "2026-03-02T09:55:15.000250Z"
