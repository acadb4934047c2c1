"""Checkpoints (DESIGN §4.5): deleted instances and rewritten chains are found; an altered
checkpoint, or one made with another key, is refused."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from engine.errors import CheckpointError
from engine.runtime.engine import Engine
from tests.engine.test_history import run_events


def test_a_fresh_checkpoint_finds_nothing() -> None:
    engine, _, instance = run_events()
    checkpoint = engine.checkpoint()
    assert [entry["id"] for entry in checkpoint["instances"]] == [instance]
    assert checkpoint["algorithm"] == "sha256"
    assert engine.verify_against(checkpoint) == []


def test_the_checkpoint_holds_each_chain_head() -> None:
    engine, store, instance = run_events()
    record = store.instances[instance]
    (entry,) = engine.checkpoint()["instances"]
    assert entry == {"id": instance, "workflow": record.workflow, "seq": record.last_seq, "hash": record.last_hash}


def test_deleting_an_instance_with_its_history_is_found() -> None:
    engine, store, instance = run_events()
    checkpoint = engine.checkpoint()
    del store.instances[instance]
    del store.history[instance]
    del store.payloads[instance]
    assert engine.verify().ok  # nothing left to contradict itself: only the checkpoint knows
    (finding,) = engine.verify_against(checkpoint)
    assert finding.instance_id == instance
    assert "deleted since the checkpoint" in finding.problem


def test_a_rewritten_chain_is_found_even_if_it_verifies() -> None:
    engine, store, instance = run_events()
    checkpoint = engine.checkpoint()
    rows = store.history[instance]
    last = rows[-1]
    rows[-1] = dataclasses.replace(last, hash="0" * 64)
    (finding,) = engine.verify_against(checkpoint)
    assert (finding.instance_id, finding.seq) == (instance, last.seq)
    assert "rewritten" in finding.problem


def test_truncated_history_is_found() -> None:
    engine, store, instance = run_events()
    checkpoint = engine.checkpoint()
    store.history[instance].pop()
    (finding,) = engine.verify_against(checkpoint)
    assert "is gone" in finding.problem


def test_an_altered_checkpoint_is_refused() -> None:
    engine, _, _ = run_events()
    checkpoint = copy.deepcopy(engine.checkpoint())
    checkpoint["instances"][0]["seq"] -= 1
    with pytest.raises(CheckpointError, match="altered"):
        engine.verify_against(checkpoint)
    with pytest.raises(CheckpointError, match="not a qaflow checkpoint"):
        engine.verify_against({"format": 2})


def test_the_key_must_be_the_one_the_checkpoint_was_made_with() -> None:
    engine, store, _ = run_events(key=b"secret")
    checkpoint = engine.checkpoint()
    assert checkpoint["algorithm"] == "hmac-sha256"
    assert engine.verify_against(checkpoint) == []
    with pytest.raises(CheckpointError, match="QAFLOW_HISTORY_KEY"):
        Engine(store).verify_against(checkpoint)
    with pytest.raises(CheckpointError, match="altered"):
        Engine(store, history_key=b"other").verify_against(checkpoint)


def test_reads_with_a_reader_are_in_the_access_log() -> None:
    engine, store, instance = run_events()
    engine.show(instance, reader="inspector-1")
    engine.history(instance, reader="inspector-2")
    engine.show(instance)  # the embedding application didn't say who: nothing to record
    assert [(entry.reader, entry.action, entry.instance_id) for entry in engine.accesses(instance)] == [
        ("inspector-1", "show", instance),
        ("inspector-2", "history", instance),
    ]
    assert store.access_log == list(engine.accesses())
