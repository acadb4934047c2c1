"""The engine: deploy, start, fire, available, explain, show, history, verify (DESIGN §4, §6).

One event is one unit of work, opened here through the store (DESIGN §4.2): lock the
instance, replay an idempotency key or check `lock_version`, judge the event
(`engine.runtime.judgement`), write the instance, history row and payload, state entry and outbox
messages (`engine.runtime.commit`) and the key, and commit. A refusal or failure raises inside the
unit of work, so it rolls back and nothing is written; the attempt is then recorded in the
security log in a unit of work of its own.

Compiled workflows are found by (workflow, version, definition hash): a running instance
only ever uses the definition it started on, loaded from the store if this process has not
seen it yet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from engine.canonical import dumps, dumps_text, nfc, to_json_value, to_request_value
from engine.errors import (
    ConflictError,
    DefinitionError,
    InvalidActorError,
    NotFoundError,
    QaflowError,
    TransitionRefusedError,
    VersionConflictError,
)
from engine.expressions import FunctionRegistry, default_functions
from engine.history.chain import ChainHasher, entry_of, verify_instance
from engine.history.checkpoints import CheckpointFinding, check_checkpoint, compare, make_checkpoint
from engine.ids import new_id
from engine.language.loader import load_workflow_text
from engine.language.workflow import Workflow
from engine.results import Actor, AvailableTrigger, Explanation, FireResult, HistoryEntry, InstanceView, SystemActor, VerifyReport
from engine.runtime.commit import commit_fire, commit_start, event_payload
from engine.runtime.judgement import evaluate_fire, evaluate_start
from engine.runtime.machine import START, CompiledWorkflow, compile_workflow
from engine.runtime.replies import fire_result_from_stored, start_from_stored, stored_fire_result, stored_start
from engine.runtime.roles import available_triggers
from engine.runtime.views import instance_view, security_event
from engine.store.protocol import Store, UnitOfWork
from engine.store.records import AccessEntry, DefinitionRecord, IdempotencyRecord, InstanceRecord, OutboxMessage, SecurityEvent
from engine.time.calendars import Calendar
from engine.time.clock import Clock, SystemClock


class Engine:
    """Runs workflows on a store.

    Args:
        store: where instances live (`engine.store.memory.MemoryStore`, or `storage`'s SQL store).
        clock: the effective clock ("now" for events); the system clock by default.
        functions: the function registry used to load stored definitions (as deployed).
        history_key: HMAC key for the history chain (`QAFLOW_HISTORY_KEY`); SHA-256 without.
        wall_clock: when events are really recorded; the system clock by default.
        closures: the deployment's closure days, for calendars that count them.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock | None = None,
        functions: FunctionRegistry | None = None,
        history_key: bytes | None = None,
        *,
        wall_clock: Clock | None = None,
        closures: frozenset[dt.date] = frozenset(),
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        # With one system clock for both, an event's two times are the same reading.
        self.wall_clock: Clock | None = wall_clock or (None if isinstance(self.clock, SystemClock) else SystemClock())
        self.functions = functions or default_functions()
        self.hasher = ChainHasher(history_key)
        self.closures = closures
        self._compiled: dict[tuple[str, int, str], tuple[CompiledWorkflow, Calendar]] = {}
        self._by_hash: dict[str, tuple[CompiledWorkflow, Calendar]] = {}

    # --- definitions -------------------------------------------------------------------

    def deploy(self, workflow: Workflow) -> DefinitionRecord:
        """Store a workflow version (if new) and compile it.

        Raises:
            VersionConflictError: this version is stored with a different definition.
        """
        compiled = compile_workflow(workflow)
        with self.store.unit_of_work() as uow:
            stored = uow.get_definition(workflow.id, workflow.version)
            if stored is not None and stored.hash != compiled.hash:
                raise VersionConflictError(
                    f"{workflow.id} version {workflow.version} is already deployed with another definition; bump `version`"
                )
            if stored is None:
                stored = DefinitionRecord(
                    workflow.id,
                    workflow.version,
                    compiled.hash,
                    workflow.source,
                    workflow.path,
                    1,
                    self.functions.names(),
                    self.clock.now(),
                )
                uow.add_definition(stored)
        self._remember(compiled)
        return stored

    def system_actor(self, on_behalf_of: str | None = None) -> SystemActor:
        """The engine's own actor, the only holder of `system` (timers, programme runs)."""
        return SystemActor("system", frozenset({"system"}), on_behalf_of)

    # --- events ------------------------------------------------------------------------

    def start(
        self,
        workflow_id: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        assign: Mapping[str, str] | None = None,
        comment: str | None = None,
        idempotency_key: str | None = None,
        *,
        version: int | None = None,
    ) -> InstanceView:
        """Start an instance of the latest deployed version of `workflow_id` (or `version`).

        Raises:
            TransitionRefusedError: the start is refused (every reason listed).
            NotFoundError: no such workflow (version) is deployed.
            ConflictError: the idempotency key was used with another request.
        """
        actor = _normal_actor(actor)
        now = self.clock.now()
        try:
            with self.store.unit_of_work() as uow:
                definition = uow.get_definition(workflow_id, version) if version is not None else uow.get_latest_definition(workflow_id)
                if definition is None:
                    raise NotFoundError(f"workflow '{workflow_id}'{f' version {version}' if version else ''} is not deployed")
                cw, calendar = self._compiled_for(uow, definition.workflow, definition.version, definition.hash)
                scope, request_hash = f"start:{workflow_id}", ""
                if idempotency_key is not None:
                    request_hash = _request_hash(START, actor, data, assign, comment)
                    kept = _kept(uow, scope, idempotency_key, request_hash)
                    if kept is not None:
                        view = instance_view(cw, calendar, start_from_stored(kept.result), now)
                        return dataclasses.replace(view, replayed=True)
                step = evaluate_start(cw, actor, data=data, assign=assign, comment=comment, now=now, calendar=calendar)
                # ids follow the wall clock, so listings keep the order instances were really
                # made in even when the effective clock is set back (--now)
                recorded = self._recorded(now)
                record = commit_start(uow, self.hasher, cw, new_id(recorded), step, actor=actor, now=now, recorded_at=recorded)
                if idempotency_key is not None:
                    uow.add_idempotency_key(IdempotencyRecord(scope, idempotency_key, request_hash, stored_start(record), record.id, now))
                return instance_view(cw, calendar, record, now)
        except QaflowError as exc:
            self._log_rejection(exc, actor, None, workflow_id, START, now)
            raise

    def fire(
        self,
        instance_id: str,
        trigger: str,
        actor: Actor,
        data: Mapping[str, Any] | None = None,
        assign: Mapping[str, str] | None = None,
        comment: str | None = None,
        idempotency_key: str | None = None,
        lock_version: int | None = None,
    ) -> FireResult:
        """Send `trigger` to an instance, as `actor`, with event data and assignments.

        Raises:
            TransitionRefusedError: refused (every candidate's reasons listed).
            NotFoundError: no such instance.
            ConflictError: `lock_version` is stale, or the idempotency key was used with
                another request.
        """
        actor = _normal_actor(actor)
        now = self.clock.now()
        try:
            with self.store.unit_of_work() as uow:
                record = uow.lock_instance(instance_id)
                if record is None:
                    raise NotFoundError(f"there is no instance '{instance_id}'")
                if idempotency_key is not None:
                    return self._fire_once(uow, record, trigger, actor, data, assign, comment, idempotency_key, lock_version, now)
                if lock_version is not None and lock_version != record.lock_version:
                    raise ConflictError(f"instance '{instance_id}' is at lock_version {record.lock_version}, not {lock_version}")
                # by definition hash alone: it is the SHA-256 of a definition that names its workflow and version
                found = self._by_hash.get(record.definition_hash)
                cw, calendar = found or self._compiled_for(uow, record.workflow, record.version, record.definition_hash)
                step = evaluate_fire(
                    cw,
                    record,
                    trigger,
                    actor,
                    data=data,
                    assign=assign,
                    comment=comment,
                    now=now,
                    calendar=calendar,
                    entries_of=uow.get_state_entries,
                )
                recorded = now if self.wall_clock is None else self.wall_clock.now()  # inline: every event
                return commit_fire(uow, self.hasher, cw, record, step, actor=actor, now=now, recorded_at=recorded)
        except QaflowError as exc:
            self._log_rejection(exc, actor, instance_id, None, trigger, now)
            raise

    def _fire_once(
        self,
        uow: UnitOfWork,
        record: InstanceRecord,
        trigger: str,
        actor: Actor,
        data: Any,
        assign: Any,
        comment: Any,
        key: str,
        lock_version: int | None,
        now: dt.datetime,
    ) -> FireResult:
        """`fire` with an idempotency key (DESIGN §4.6): the first result for the same request."""
        scope, request_hash = f"fire:{record.id}", _request_hash(trigger, actor, data, assign, comment)
        kept = _kept(uow, scope, key, request_hash)
        if kept is not None:
            return fire_result_from_stored(kept.result)
        if lock_version is not None and lock_version != record.lock_version:
            raise ConflictError(f"instance '{record.id}' is at lock_version {record.lock_version}, not {lock_version}")
        cw, calendar = self._compiled_for(uow, record.workflow, record.version, record.definition_hash)
        step = evaluate_fire(
            cw,
            record,
            trigger,
            actor,
            data=data,
            assign=assign,
            comment=comment,
            now=now,
            calendar=calendar,
            entries_of=uow.get_state_entries,
        )
        result = commit_fire(uow, self.hasher, cw, record, step, actor=actor, now=now, recorded_at=self._recorded(now))
        uow.add_idempotency_key(IdempotencyRecord(scope, key, request_hash, stored_fire_result(result), record.id, now))
        return result

    # --- questions ---------------------------------------------------------------------

    def explain(
        self, instance_id: str, trigger: str, actor: Actor, data: Mapping[str, Any] | None = None, assign: Mapping[str, str] | None = None
    ) -> Explanation:
        """Whether `trigger` would be taken now (with `data` and `assign`), every candidate's
        reasons, and what would happen. Changes nothing and logs nothing."""
        actor = _normal_actor(actor)
        now = self.clock.now()
        with self.store.unit_of_work(read_only=True) as uow:
            record = _instance(uow, instance_id)
            cw, calendar = self._compiled_for(uow, record.workflow, record.version, record.definition_hash)
            try:
                step = evaluate_fire(
                    cw,
                    record,
                    trigger,
                    actor,
                    data=data,
                    assign=assign,
                    comment=None,
                    now=now,
                    calendar=calendar,
                    entries_of=uow.get_state_entries,
                    explain=True,
                )
                event_payload(cw, step, actor, instance_id)  # fire would refuse a payload too large to keep
            except TransitionRefusedError as exc:
                return Explanation(instance_id, trigger, record.state, False, exc.reasons, exc.candidates)
        return Explanation(
            instance_id,
            trigger,
            record.state,
            True,
            (),
            step.candidates,
            role=step.role,
            transition=step.rule.index + 1,
            to_state=step.to_state,
            changes=step.changes,
            notifications=step.notifications,
            pending_effects=step.pending,
        )

    def available(self, instance_id: str, actor: Actor) -> list[AvailableTrigger]:
        """Triggers the actor holds a role for in the instance's current state (separation
        of duties included). Checks and `needs` depend on the event's data: see `explain`."""
        actor = _normal_actor(actor)
        is_system = isinstance(actor, SystemActor)
        if not is_system and "system" in actor.roles:
            return []
        with self.store.unit_of_work(read_only=True) as uow:
            record = _instance(uow, instance_id)
            cw, _ = self._compiled_for(uow, record.workflow, record.version, record.definition_hash)
        return available_triggers(cw, record, actor, is_system)

    def show(self, instance_id: str, reader: str | None = None) -> InstanceView:
        """The instance now: state, typed data, assignees and computed values.

        With `reader`, the read is recorded in the access log (DESIGN §4.8).
        """
        with self.store.unit_of_work(read_only=True) as uow:
            record = _instance(uow, instance_id)
            cw, calendar = self._compiled_for(uow, record.workflow, record.version, record.definition_hash)
            view = instance_view(cw, calendar, record, self.clock.now(), uow.get_state_entries)
        self._log_access(reader, instance_id, "show")
        return view

    def workflow_of(self, instance_id: str) -> Workflow:
        """The definition an instance runs on (as deployed: never the file in `workflows/`).

        Raises:
            NotFoundError: no such instance.
        """
        with self.store.unit_of_work(read_only=True) as uow:
            record = _instance(uow, instance_id)
            compiled, _ = self._compiled_for(uow, record.workflow, record.version, record.definition_hash)
        return compiled.workflow

    def instances(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        assignee: str | None = None,
        where: Mapping[str, str] | None = None,
        after: str | None = None,
        limit: int | None = 100,
    ) -> list[InstanceRecord]:
        """Instances ordered by id (oldest first); `limit` None or 0 for all.

        `assignee` keeps instances where that person holds a role; `where` keeps those whose
        computed values, written as text (`true`, `12`, `good`), equal the given ones.
        """
        if assignee is None and not where:
            with self.store.unit_of_work(read_only=True) as uow:
                return uow.list_instances(workflow=workflow, state=state, after=after, limit=limit or None)
        found: list[InstanceRecord] = []
        cursor = after
        while True:  # page through the store, filtering, until `limit` match
            with self.store.unit_of_work(read_only=True) as uow:
                batch = uow.list_instances(workflow=workflow, state=state, after=cursor, limit=_FILTER_PAGE)
                for record in batch:
                    if assignee is not None and assignee not in record.assignees.values():
                        continue
                    if where and not self._computed_match(uow, record, where):
                        continue
                    found.append(record)
                    if limit and len(found) >= limit:
                        return found
            if len(batch) < _FILTER_PAGE:
                return found
            cursor = batch[-1].id

    def _computed_match(self, uow: UnitOfWork, record: InstanceRecord, where: Mapping[str, str]) -> bool:
        cw, calendar = self._compiled_for(uow, record.workflow, record.version, record.definition_hash)
        if not all(name in cw.computed_map for name in where):
            return False
        computed = instance_view(cw, calendar, record, self.clock.now(), uow.get_state_entries).computed
        return all(_as_text(computed[name]) == wanted for name, wanted in where.items())

    def history(self, instance_id: str, reader: str | None = None) -> list[HistoryEntry]:
        """The instance's history, payloads read back (None values where redacted).

        With `reader`, the read is recorded in the access log (DESIGN §4.8).
        """
        with self.store.unit_of_work(read_only=True) as uow:
            _instance(uow, instance_id)
            payloads = uow.get_payloads(instance_id)
            entries = [entry_of(row, payloads.get(row.seq)) for row in uow.get_history(instance_id)]
        self._log_access(reader, instance_id, "history")
        return entries

    def accesses(self, instance_id: str | None = None) -> list[AccessEntry]:
        """The access log: who read which instance, oldest first."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.get_access_entries(instance_id)

    def outbox(self, *, pending_only: bool = False) -> list[OutboxMessage]:
        """Messages for people, in the order they were written."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.get_outbox(pending_only=pending_only)

    def checkpoint(self) -> dict[str, Any]:
        """A digest of every chain head, to keep outside the database (`verify --checkpoint`)."""
        with self.store.unit_of_work(read_only=True) as uow:
            records = uow.list_instances()
        return make_checkpoint(self.hasher, records, self._recorded(self.clock.now()))

    def verify_against(self, checkpoint: Mapping[str, Any]) -> list[CheckpointFinding]:
        """Instances deleted, or histories rewritten, since `checkpoint` was made.

        Raises:
            CheckpointError: the checkpoint is not one, was made with another key, or was altered.
        """
        findings = []
        for entry in check_checkpoint(self.hasher, checkpoint):
            with self.store.unit_of_work(read_only=True) as uow:
                record = uow.get_instance(str(entry["id"]))
                rows = uow.get_history(record.id) if record is not None else []
            found = compare(entry, record, rows)
            if found is not None:
                findings.append(found)
        return findings

    def _log_access(self, reader: str | None, instance_id: str, action: str) -> None:
        # Its own short unit of work after the read, so a read never waits on its own log.
        if reader is None:
            return
        with self.store.unit_of_work() as uow:
            uow.add_access_entry(AccessEntry(self._recorded(self.clock.now()), nfc(reader), instance_id, action))

    def refusals(self, instance_id: str | None = None) -> list[SecurityEvent]:
        """The security log: refused and rejected attempts, oldest first."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.get_security_events(instance_id)

    def verify(self, instance_id: str | None = None) -> VerifyReport:
        """Recompute every chain (or one), check stored bytes, heads and replayed state.

        Raises:
            NotFoundError: `instance_id` names no instance.
        """
        with self.store.unit_of_work(read_only=True) as uow:
            ids = [instance_id] if instance_id is not None else [record.id for record in uow.list_instances()]
        checks = []
        for each in ids:
            with self.store.unit_of_work(read_only=True) as uow:
                record = _instance(uow, each)
                checks.append(verify_instance(self.hasher, record, uow.get_history(each), uow.get_payloads(each)))
        return VerifyReport(tuple(checks))

    # --- helpers -----------------------------------------------------------------------

    def _recorded(self, now: dt.datetime) -> dt.datetime:
        return now if self.wall_clock is None else self.wall_clock.now()

    def _compiled_for(self, uow: UnitOfWork, workflow: str, version: int, hash_: str) -> tuple[CompiledWorkflow, Calendar]:
        found = self._compiled.get((workflow, version, hash_))
        if found is not None:
            return found
        stored = uow.get_definition(workflow, version)
        if stored is None or stored.hash != hash_:
            raise DefinitionError(f"the definition of {workflow} version {version} ({hash_[:12]}) is not in the store")
        compiled = compile_workflow(load_workflow_text(stored.path, stored.source, self.functions, expected_id=workflow))
        if compiled.hash != hash_:
            raise DefinitionError(f"the stored source of {workflow} version {version} no longer gives hash {hash_[:12]}")
        return self._remember(compiled)

    def _remember(self, compiled: CompiledWorkflow) -> tuple[CompiledWorkflow, Calendar]:
        setting = compiled.workflow.spec.calendar
        calendar = Calendar.for_region(setting.region, self.closures if setting.closures else frozenset())
        found = self._compiled[compiled.key] = self._by_hash[compiled.hash] = (compiled, calendar)
        return found

    def _log_rejection(
        self, exc: QaflowError, actor: Actor, instance_id: str | None, workflow: str | None, trigger: str, now: dt.datetime
    ) -> None:
        """Record a refused or rejected attempt, in a unit of work of its own."""
        event = security_event(exc, actor, instance_id, workflow, trigger, now)
        if event is not None:
            with self.store.unit_of_work() as uow:
                uow.add_security_event(event)


def _instance(uow: UnitOfWork, instance_id: str) -> InstanceRecord:
    record = uow.get_instance(instance_id)
    if record is None:
        raise NotFoundError(f"there is no instance '{instance_id}'")
    return record


def _kept(uow: UnitOfWork, scope: str, key: str, request_hash: str) -> IdempotencyRecord | None:
    kept = uow.get_idempotency_key(scope, key)
    if kept is not None and kept.request_hash != request_hash:
        raise ConflictError(f"idempotency key {key!r} was already used with a different request")
    return kept


def _request_hash(trigger: str, actor: Actor, data: Any, assign: Any, comment: Any) -> str:
    """SHA-256 of the canonical request (DESIGN §4.6): trigger, actor, claimed roles, data,
    assignments, comment. Plain SHA-256, never the chain's key: it only has to tell requests apart."""
    body = {
        "trigger": trigger,
        "actor": actor.id,
        "roles": sorted(actor.roles),
        "data": to_request_value(data),
        "assign": to_request_value(assign),
        "comment": to_request_value(comment),
    }
    return hashlib.sha256(dumps(body)).hexdigest()


_FILTER_PAGE = 500  # instances read per unit of work while filtering a listing


def _as_text(value: Any) -> str:
    """A computed value as `list --where` writes it: true/false, null, or its JSON-form text."""
    form = to_json_value(value)
    if isinstance(form, bool) or form is None:
        return json.dumps(form)
    return form if isinstance(form, str) else dumps_text(form)


def _normal_actor(actor: Actor) -> Actor:
    """The actor with an NFC id, or an error for an id that can't name a person."""
    ident = actor.id
    # the usual case, checked cheaply on every event: plain printable ASCII, no outer spaces
    if type(ident) is str and ident.isascii() and ident.isprintable() and ident and ident[0] != " " and ident[-1] != " ":
        return actor
    if not isinstance(actor, Actor) or not isinstance(actor.id, str):
        raise TypeError(f"an actor is an engine.results.Actor with a text id, got {actor!r}")
    if not actor.id.strip() or actor.id != actor.id.strip() or not actor.id.isprintable():
        raise InvalidActorError(f"an actor id must be printable text without surrounding spaces, got {actor.id!r}")
    if actor.id.isascii():
        return actor
    return dataclasses.replace(actor, id=nfc(actor.id))
