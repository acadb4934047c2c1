"""Text that is not valid Unicode (a lone surrogate: what Python makes of bytes that are not
UTF-8) is refused where it enters, as a reason or an input error, never a UnicodeEncodeError
from deep inside the hash chain or the database driver (issue 8, DESIGN §4.10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine import Actor, Engine, InvalidRequestError, MemoryStore, TransitionRefusedError, load_workflow
from engine.canonical import CanonicalError, nfc
from tests.cli_support import start_args

ROOT = Path(__file__).resolve().parents[2]
LEAD = Actor("qa-lead-1", frozenset({"qa_lead"}))
CASE = {"child_ref": "CF-2041", "case_type": "cp", "team": "North", "case_status": "open", "selection_method": "random"}
PEOPLE = {"practitioner": "sw-12", "team_manager": "tm-3"}
BROKEN = "N\ud800rth"


def engine_with_the_audit() -> Engine:
    engine = Engine(MemoryStore())
    engine.deploy(load_workflow(ROOT / "workflows" / "case_file_audit.yaml"))
    return engine


def test_nfc_refuses_a_lone_surrogate_and_keeps_valid_text() -> None:
    assert nfc("Zoe\u0308") == "Zoë"
    with pytest.raises(CanonicalError, match="not valid Unicode"):
        nfc(BROKEN)


def test_a_field_value_that_is_not_unicode_is_a_reason() -> None:
    engine = engine_with_the_audit()
    with pytest.raises(TransitionRefusedError) as refused:
        engine.start("case_file_audit", LEAD, {**CASE, "team": BROKEN}, assign=PEOPLE)
    assert refused.value.codes == ("invalid_value",)
    assert engine.refusals()[-1].trigger == "@start"  # logged, and the log could be written


def test_the_refusal_is_logged_on_sqlite_too(tmp_path: Path) -> None:
    from storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'q.db'}", migrate=True)
    try:
        engine = Engine(store)
        engine.deploy(load_workflow(ROOT / "workflows" / "case_file_audit.yaml"))
        with pytest.raises(TransitionRefusedError):
            engine.start("case_file_audit", LEAD, {**CASE, "team": BROKEN}, assign=PEOPLE)
        with pytest.raises(TransitionRefusedError):
            engine.start("case_file_audit", LEAD, CASE, assign=PEOPLE, comment=BROKEN)
        assert [event.trigger for event in engine.refusals()] == ["@start", "@start"]
        assert engine.instances() == []
    finally:
        store.close()


def test_a_comment_that_is_not_unicode_is_a_reason() -> None:
    engine = engine_with_the_audit()
    view = engine.start("case_file_audit", LEAD, CASE, assign=PEOPLE)
    with pytest.raises(TransitionRefusedError) as refused:
        engine.fire(view.id, "allocate", LEAD, {"auditor_trained": True}, assign={"auditor": "aud-7"}, comment=BROKEN)
    assert "bad_request" in refused.value.codes
    assert engine.show(view.id).state == "selected"


def test_an_idempotency_key_that_is_not_unicode_is_an_input_error() -> None:
    engine = engine_with_the_audit()
    with pytest.raises(InvalidRequestError):
        engine.start("case_file_audit", LEAD, CASE, assign=PEOPLE, idempotency_key=BROKEN)


def test_a_command_line_argument_that_is_not_utf8_is_exit_2_in_one_line(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "qaflow", "--db", f"sqlite:///{tmp_path / 'q.db'}", *start_args()]
    raw = [*(arg.encode() for arg in args), b"--comment", b"N\xffrth"]  # bytes that are not UTF-8, as a shell can pass them
    done = subprocess.run(raw, capture_output=True, cwd=ROOT, timeout=300, check=False)
    assert done.returncode == 2, done
    assert b"Traceback" not in done.stderr
    assert done.stderr.decode().startswith("Error: argument ") and done.stderr.count(b"\n") == 1
