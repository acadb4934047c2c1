"""R8, tamper evidence on SQLite through `qaflow verify`.

Three audits with several history rows each are built once through the command line; each
test copies that database, changes it as an administrator could (the append-only triggers
dropped first, as DESIGN §4.5 says they stop bugs, not administrators) and checks that
`verify` exits 1 naming the instance and its first bad row, while the untouched instances
still verify. Then: a keyed chain (QAFLOW_HISTORY_KEY) verifies only with its key, a
recomputed SHA-256 rewrite is caught by the key or by `verify --against` a checkpoint, and
a whole deleted instance is found with `--against`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from qaflow.cli import cli

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
NOW = "2026-11-16T10:00:00Z"
HISTORY_TRIGGERS = ("history_no_update", "history_no_delete")  # storage/migrations/versions/0001_initial.py

QA_LEAD = ("--as", "qa-lead-1", "--role", "qa_lead")
AUDITOR = ("--as", "aud-7", "--role", "auditor")
TEAM_MANAGER = ("--as", "tm-3", "--role", "team_manager")
ALLOCATE = ("allocate", *QA_LEAD, "--set", "auditor_trained=true", "--assign", "auditor=aud-7")
ARRANGE = ("arrange_meeting", *AUDITOR, "--set", "practitioner_notified_on=2026-11-16", "--set", "meeting_date=2026-12-01")


class Cli:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.url = f"sqlite:///{db}"

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--workflows", str(WORKFLOWS), "--db", self.url, "--now", NOW, "--allow-clock-override", *args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"qaflow {' '.join(args)} raised {result.exception!r}") from result.exception
        assert "Traceback" not in result.stderr
        return result.exit_code, result.stdout, result.stderr

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, f"exit {code}: {out}{err}"
        return out

    def verify(self, *args: str) -> tuple[int, str, dict[str, Any]]:
        """`verify` as people read it (exit code, text) and as tools do (JSON)."""
        code, out, _ = self("verify", *args)
        json_code, json_out, _ = self("verify", *args, "--json")
        assert json_code == code
        return code, out, json.loads(json_out)


def build(run: Cli) -> dict[str, str]:
    """Three audits: A with 5 history rows, B with 4 (withdrawn), C with 4."""
    case = ["--set", "case_type=cp", "--set", "team=North", "--set", "case_status=open", "--set", "selection_method=random"]
    people = ["--assign", "practitioner=sw-12", "--assign", "team_manager=tm-3"]
    ids = {}
    for name, ref in (("A", "CF-2041"), ("B", "CF-2042"), ("C", "CF-2043")):
        ids[name] = run.ok("start", "case_file_audit", *QA_LEAD, "--set", f"child_ref={ref}", *case, *people).strip()
    a, b, c = ids["A"], ids["B"], ids["C"]
    run.ok("fire", a, *ALLOCATE)
    run.ok("fire", b, *ALLOCATE)
    run.ok("fire", c, *ALLOCATE)
    run.ok("fire", a, *ARRANGE)
    run.ok("fire", b, "extend_deadline", *TEAM_MANAGER, "--set", "extension_reason=Auditor on leave for a week.")
    run.ok("fire", c, "safeguarding_concern", *TEAM_MANAGER, "--set", "safeguarding_note=Referred to MASH on the day.")
    run.ok("fire", a, "start_review", *AUDITOR, "--comment", "Reading the record before the meeting.")
    run.ok("fire", b, "withdraw", *QA_LEAD, "--set", "withdrawal_reason=child_moved")
    run.ok("fire", c, *ARRANGE)
    run.ok("fire", a, "safeguarding_concern", *AUDITOR, "--set", "safeguarding_note=Discussed with the team manager at once.")
    return ids


def checkpointed(db: Path) -> None:
    """Fold the WAL into the main file, so that the file alone is the database."""
    with closing(sqlite3.connect(db, isolation_level=None)) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A database with the three audits, built once (with no history key)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("QAFLOW_HISTORY_KEY", raising=False)
        run = Cli(tmp_path_factory.mktemp("tamper") / "built.db")
        run.ok("db", "upgrade")
        ids = build(run)
        assert run.verify()[0] == 0
    checkpointed(run.db)
    return run.db, ids


@pytest.fixture
def copy(built: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Cli, dict[str, str]]:
    monkeypatch.delenv("QAFLOW_HISTORY_KEY", raising=False)
    source, ids = built
    shutil.copyfile(source, tmp_path / "q.db")
    return Cli(tmp_path / "q.db"), ids


def admin(db: Path) -> sqlite3.Connection:
    """A connection as an administrator: the append-only triggers dropped."""
    con = sqlite3.connect(db, isolation_level=None)
    for trigger in HISTORY_TRIGGERS:
        con.execute(f"DROP TRIGGER {trigger}")
    return con


# --- each kind of tampering, on audit A (rows 1-5) --------------------------------------

Tamper = Callable[[sqlite3.Connection, str], None]


def edit_actor(con: sqlite3.Connection, a: str) -> None:
    con.execute("UPDATE history SET actor = 'qa-lead-1' WHERE instance_id = ? AND seq = 3", (a,))


def edit_time(con: sqlite3.Connection, a: str) -> None:
    con.execute("UPDATE history SET at = '2026-01-01T00:00:00.000000Z' WHERE instance_id = ? AND seq = 3", (a,))


def edit_hash(con: sqlite3.Connection, a: str) -> None:
    con.execute("UPDATE history SET hash = ? WHERE instance_id = ? AND seq = 2", ("0" * 64, a))


def edit_canonical(con: sqlite3.Connection, a: str) -> None:
    (canonical,) = con.execute("SELECT canonical FROM history WHERE instance_id = ? AND seq = 3", (a,)).fetchone()
    assert b'"role":"auditor"' in canonical
    con.execute(
        "UPDATE history SET canonical = ? WHERE instance_id = ? AND seq = 3",
        (canonical.replace(b'"role":"auditor"', b'"role":"qa_lead"'), a),
    )


def edit_column_and_bytes(con: sqlite3.Connection, a: str) -> None:
    """The actor changed in the column and in the stored bytes alike: the hash gives it away."""
    (canonical,) = con.execute("SELECT canonical FROM history WHERE instance_id = ? AND seq = 3", (a,)).fetchone()
    con.execute(
        "UPDATE history SET actor = 'aud-9', canonical = ? WHERE instance_id = ? AND seq = 3",
        (canonical.replace(b'"actor":"aud-7"', b'"actor":"aud-9"'), a),
    )


def swap_rows(con: sqlite3.Connection, a: str) -> None:
    for old, new in ((2, -2), (3, 2), (-2, 3)):
        con.execute("UPDATE history SET seq = ? WHERE instance_id = ? AND seq = ?", (new, a, old))


def delete_middle_row(con: sqlite3.Connection, a: str) -> None:
    con.execute("DELETE FROM history WHERE instance_id = ? AND seq = 3", (a,))


def delete_last_row(con: sqlite3.Connection, a: str) -> None:
    con.execute("DELETE FROM history WHERE instance_id = ? AND seq = 5", (a,))
    con.execute("DELETE FROM history_payloads WHERE instance_id = ? AND seq = 5", (a,))


def delete_last_row_and_move_the_head(con: sqlite3.Connection, a: str) -> None:
    """The last row deleted and the instance's chain head moved back to row 4: the data gives it away."""
    delete_last_row(con, a)
    (previous,) = con.execute("SELECT hash FROM history WHERE instance_id = ? AND seq = 4", (a,)).fetchone()
    con.execute("UPDATE instances SET last_seq = 4, last_hash = ?, lock_version = 4 WHERE id = ?", (previous, a))


def edit_instance_state(con: sqlite3.Connection, a: str) -> None:
    con.execute("UPDATE instances SET state = 'closed' WHERE id = ?", (a,))


def edit_instance_data(con: sqlite3.Connection, a: str) -> None:
    (text,) = con.execute("SELECT data FROM instances WHERE id = ?", (a,)).fetchone()
    data = json.loads(text)
    data["team"] = "South"
    con.execute("UPDATE instances SET data = ? WHERE id = ?", (json.dumps(data, sort_keys=True, separators=(",", ":")), a))


def edit_instance_assignees(con: sqlite3.Connection, a: str) -> None:
    con.execute("UPDATE instances SET assignees = ? WHERE id = ?", ('{"auditor":"aud-9","practitioner":"sw-12","team_manager":"tm-3"}', a))


def edit_payload(con: sqlite3.Connection, a: str) -> None:
    (body,) = con.execute("SELECT body FROM history_payloads WHERE instance_id = ? AND seq = 1", (a,)).fetchone()
    assert b'"North"' in body
    con.execute("UPDATE history_payloads SET body = ? WHERE instance_id = ? AND seq = 1", (body.replace(b'"North"', b'"South"'), a))


def edit_comment(con: sqlite3.Connection, a: str) -> None:
    (body,) = con.execute("SELECT body FROM history_payloads WHERE instance_id = ? AND seq = 4", (a,)).fetchone()
    edited = json.loads(body)
    edited["comment"] = "Never read the record."
    con.execute(
        "UPDATE history_payloads SET body = ? WHERE instance_id = ? AND seq = 4",
        (json.dumps(edited, sort_keys=True, separators=(",", ":")).encode(), a),
    )


def delete_payload(con: sqlite3.Connection, a: str) -> None:
    con.execute("DELETE FROM history_payloads WHERE instance_id = ? AND seq = 2", (a,))


TAMPERS = [
    pytest.param(edit_actor, 3, id="history_actor"),
    pytest.param(edit_time, 3, id="history_time"),
    pytest.param(edit_hash, 2, id="history_hash"),
    pytest.param(edit_canonical, 3, id="canonical_bytes"),
    pytest.param(edit_column_and_bytes, 3, id="column_and_bytes"),
    pytest.param(swap_rows, 2, id="reorder_rows"),
    pytest.param(delete_middle_row, 3, id="delete_middle_row"),
    pytest.param(delete_last_row, 5, id="delete_last_row"),
    pytest.param(delete_last_row_and_move_the_head, 4, id="delete_last_row_and_move_head"),
    pytest.param(edit_instance_state, 5, id="instance_state"),
    pytest.param(edit_instance_data, 5, id="instance_data"),
    pytest.param(edit_instance_assignees, 5, id="instance_assignees"),
    pytest.param(edit_payload, 1, id="payload_data"),
    pytest.param(edit_comment, 4, id="payload_comment"),
    pytest.param(delete_payload, 2, id="payload_deleted"),
]


@pytest.mark.parametrize(("tamper", "first_bad"), TAMPERS)
def test_verify_names_the_instance_and_its_first_bad_row(copy: tuple[Cli, dict[str, str]], tamper: Tamper, first_bad: int) -> None:
    run, ids = copy
    a = ids["A"]
    with closing(admin(run.db)) as con:
        tamper(con, a)
    code, out, report = run.verify()
    assert code == 1
    assert f"BROKEN {a}: row {first_bad}: " in out
    assert [line for line in out.splitlines() if line.startswith("BROKEN")] == [line for line in out.splitlines() if a in line]
    assert out.splitlines()[-1] == "3 instance(s) checked: 1 broken, 0 redacted"
    checks = {check["instance_id"]: check for check in report["instances"]}
    assert report["ok"] is False
    assert (checks[a]["status"], checks[a]["first_bad_seq"]) == ("broken", first_bad)
    assert checks[a]["problem"]
    assert {checks[ids[n]]["status"] for n in "BC"} == {"ok"}  # the untouched instances still verify
    assert run.verify(ids["B"])[0] == 0
    code, out, _ = run.verify(a)
    assert code == 1 and f"BROKEN {a}: row {first_bad}: " in out


def test_untouched_instances_verify(copy: tuple[Cli, dict[str, str]]) -> None:
    run, ids = copy
    code, out, report = run.verify()
    assert (code, out) == (0, "3 instance(s) checked: 0 broken, 0 redacted\n")
    assert report["ok"] is True
    assert sorted((c["instance_id"], c["rows"]) for c in report["instances"]) == sorted([(ids["A"], 5), (ids["B"], 4), (ids["C"], 4)])
    for name in "ABC":
        code, out, _ = run.verify(ids[name])
        assert (code, out) == (0, "1 instance(s) checked: 0 broken, 0 redacted\n")


def test_the_triggers_refuse_a_rewrite_until_dropped(copy: tuple[Cli, dict[str, str]]) -> None:
    run, ids = copy
    with closing(sqlite3.connect(run.db, isolation_level=None)) as con:
        for statement in ("UPDATE history SET actor = 'x' WHERE instance_id = ?", "DELETE FROM history WHERE instance_id = ?"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(statement, (ids["A"],))
    assert run.verify()[0] == 0


# --- rewrites that recompute SHA-256, and deleted instances --------------------------------


def rewrite_last_row(db: Path, instance: str, digest: Callable[[bytes], str]) -> None:
    """Move the last row's time and recompute its hash and the instance's chain head."""
    with closing(admin(db)) as con:
        seq, at, canonical = con.execute(
            "SELECT seq, at, canonical FROM history WHERE instance_id = ? ORDER BY seq DESC LIMIT 1", (instance,)
        ).fetchone()
        forged = canonical.replace(f'"at":"{at}"'.encode(), b'"at":"2026-01-01T00:00:00.000000Z"')
        assert forged != canonical
        new_hash = digest(forged)
        con.execute(
            "UPDATE history SET at = '2026-01-01T00:00:00.000000Z', canonical = ?, hash = ? WHERE instance_id = ? AND seq = ?",
            (forged, new_hash, instance, seq),
        )
        con.execute("UPDATE instances SET last_hash = ? WHERE id = ?", (new_hash, instance))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_an_unkeyed_rewrite_is_found_against_a_checkpoint(copy: tuple[Cli, dict[str, str]], tmp_path: Path) -> None:
    run, ids = copy
    checkpoint = tmp_path / "heads.json"
    code, out, _ = run("verify", "--checkpoint", str(checkpoint))
    assert code == 0 and checkpoint.is_file()
    rewrite_last_row(run.db, ids["A"], sha256)
    assert run.verify()[0] == 0  # plain SHA-256 can be recomputed by anyone who can write (DESIGN §4.5)
    code, out, report = run.verify("--against", str(checkpoint))
    assert code == 1
    assert any(line.startswith(f"CHANGED {ids['A']}: ") for line in out.splitlines())
    assert [finding["instance_id"] for finding in report["checkpoint"]] == [ids["A"]]


def test_a_deleted_instance_is_found_against_a_checkpoint(copy: tuple[Cli, dict[str, str]], tmp_path: Path) -> None:
    run, ids = copy
    checkpoint = tmp_path / "heads.json"
    run.ok("verify", "--checkpoint", str(checkpoint))
    with closing(admin(run.db)) as con:
        for table in ("history_payloads", "state_entries", "timers", "deadlines", "outbox", "idempotency_keys", "history"):
            con.execute(f"DELETE FROM {table} WHERE instance_id = ?", (ids["C"],))
        con.execute("DELETE FROM instances WHERE id = ?", (ids["C"],))
    code, out, _ = run.verify()
    assert (code, out) == (0, "2 instance(s) checked: 0 broken, 0 redacted\n")
    code, out, report = run.verify("--against", str(checkpoint))
    assert code == 1
    assert any(line.startswith(f"CHANGED {ids['C']}: ") for line in out.splitlines())
    assert [finding["instance_id"] for finding in report["checkpoint"]] == [ids["C"]]


def test_a_keyed_chain_verifies_only_with_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QAFLOW_HISTORY_KEY", "kept-outside-the-database")
    run = Cli(tmp_path / "q.db")
    run.ok("db", "upgrade")
    ids = build(run)
    code, out, _ = run.verify()
    assert (code, out) == (0, "3 instance(s) checked: 0 broken, 0 redacted\n")
    assert run.verify(ids["A"])[0] == 0
    monkeypatch.setenv("QAFLOW_HISTORY_KEY", "another-key")
    code, out, report = run.verify()
    assert code == 1
    assert {f"BROKEN {ids[n]}: row 1: " in out for n in "ABC"} == {True}
    assert {check["first_bad_seq"] for check in report["instances"]} == {1}
    monkeypatch.delenv("QAFLOW_HISTORY_KEY")
    assert run.verify()[0] == 1  # nor without a key


def test_a_keyed_chain_finds_a_recomputed_sha256_rewrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QAFLOW_HISTORY_KEY", "kept-outside-the-database")
    run = Cli(tmp_path / "q.db")
    run.ok("db", "upgrade")
    ids = build(run)
    rewrite_last_row(run.db, ids["A"], sha256)
    code, out, report = run.verify()
    assert code == 1
    assert f"BROKEN {ids['A']}: row 5: " in out
    assert {c["instance_id"]: c["status"] for c in report["instances"]} == {ids["A"]: "broken", ids["B"]: "ok", ids["C"]: "ok"}
