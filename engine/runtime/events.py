"""Events: start, fire, explain and available (DESIGN §4.2, §4.6).

One event is one unit of work, opened here through the store: lock the instance, replay an
idempotency key or check `lock_version`, judge the event (`engine.runtime.judgement`), write
the instance, history row and payload, state entry and outbox messages
(`engine.runtime.commit`) and the key, and commit. A refusal or failure raises inside the
unit of work, so it rolls back and nothing is written; the attempt is then recorded in the
security log in a unit of work of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import reprlib
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any

from engine.canonical import dumps, nfc, to_request_value
from engine.errors import ConflictError, InvalidActorError, InvalidRequestError, NotFoundError, QaflowError, TransitionRefusedError
from engine.ids import new_id
from engine.results import Actor, AvailableTrigger, Explanation, FireResult, InstanceView, SystemActor
from engine.runtime.commit import commit_fire, commit_start, event_payload
from engine.runtime.definitions import Definitions
from engine.runtime.judgement import evaluate_available, evaluate_fire, evaluate_start
from engine.runtime.machine import START
from engine.runtime.parts import EngineParts, instance_or_error
from engine.runtime.replies import fire_result_from_stored, start_from_stored, stored_fire_result, stored_start
from engine.runtime.views import instance_view, security_event
from engine.store.protocol import UnitOfWork
from engine.store.records import IdempotencyRecord, SecurityEvent

MAX_KEY = 200  # characters in an idempotency key: an id a client makes up, not a document
MAX_LOGGED_ROLES = 50  # roles kept in the security-log row of an invalid call


class Events:
    """Starting instances and sending them events, on one engine's parts and definitions."""

    def __init__(self, parts: EngineParts, definitions: Definitions) -> None:
        self.parts = parts
        self.definitions = definitions

    def start(
        self,
        workflow_id: str,
        actor: Actor,
        data: Mapping[str, Any] | None,
        assign: Mapping[str, str] | None,
        comment: str | None,
        idempotency_key: str | None,
        version: int | None,
    ) -> InstanceView:
        """See `Engine.start`."""
        parts = self.parts
        now = parts.clock.now()
        try:
            actor = normal_actor(actor)
            check_name("workflow_id", workflow_id)
            if version is not None and (type(version) is bool or not isinstance(version, int)):
                raise InvalidRequestError(
                    f"a workflow version is a whole number (an int), got {type(version).__name__} {shortened(version)}",
                    argument="version",
                )
            check_call(START, idempotency_key)
            with parts.store.unit_of_work() as uow:
                definition = uow.definitions.get(workflow_id, version) if version is not None else uow.definitions.latest(workflow_id)
                if definition is None:
                    raise NotFoundError(
                        f"workflow '{workflow_id}'{f' version {version}' if version else ''} is not deployed",
                        kind="workflow",
                        name=workflow_id,
                    )
                cw, calendar = self.definitions.compiled_for(uow, definition.workflow, definition.version, definition.hash)
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
                recorded = parts.recorded(now)
                record = commit_start(uow, parts.hasher, cw, new_id(recorded), step, actor=actor, now=now, recorded_at=recorded)
                if idempotency_key is not None:
                    uow.idempotency.add(IdempotencyRecord(scope, idempotency_key, request_hash, stored_start(record), record.id, now))
                return instance_view(cw, calendar, record, now)
        except QaflowError as exc:
            self._log_rejection(exc, actor, None, workflow_id, START, now)
            raise

    def fire(
        self,
        instance_id: str,
        trigger: str,
        actor: Actor,
        data: Mapping[str, Any] | None,
        assign: Mapping[str, str] | None,
        comment: str | None,
        idempotency_key: str | None,
        lock_version: int | None,
    ) -> FireResult:
        """See `Engine.fire`."""
        parts = self.parts
        now = parts.clock.now()
        try:
            actor = normal_actor(actor)
            if (
                type(instance_id) is not str
                or type(trigger) is not str
                or not trigger
                or idempotency_key is not None
                or lock_version is not None
            ):
                check_name("instance_id", instance_id)  # inline above: every event
                check_call(trigger, idempotency_key, lock_version)
            with parts.store.unit_of_work() as uow:
                record = uow.instances.lock(instance_id)
                if record is None:
                    raise NotFoundError(f"there is no instance '{instance_id}'", kind="instance", name=instance_id)
                if idempotency_key is not None:  # DESIGN §4.6: the first result for the same request
                    scope, request_hash = f"fire:{record.id}", _request_hash(trigger, actor, data, assign, comment)
                    kept = _kept(uow, scope, idempotency_key, request_hash)
                    if kept is not None:
                        return fire_result_from_stored(kept.result)
                if lock_version is not None and lock_version != record.lock_version:
                    raise ConflictError(
                        f"instance '{instance_id}' is at lock_version {record.lock_version}, not {lock_version}",
                        retryable=False,  # the caller read an older state: sending the same again can't help
                        instance_id=record.id,
                        expected_lock_version=lock_version,
                        actual_lock_version=record.lock_version,
                    )
                found = self.definitions.by_hash.get(record.definition_hash)
                cw, calendar = found or self.definitions.compiled_for(uow, record.workflow, record.version, record.definition_hash)
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
                    entries_of=uow.state_entries.of,
                )
                recorded = now if parts.wall_clock is None else parts.wall_clock.now()  # inline: every event
                result = commit_fire(uow, parts.hasher, cw, record, step, actor=actor, now=now, recorded_at=recorded)
                if idempotency_key is not None:
                    uow.idempotency.add(IdempotencyRecord(scope, idempotency_key, request_hash, stored_fire_result(result), record.id, now))
                return result
        except QaflowError as exc:
            self._log_rejection(exc, actor, instance_id, None, trigger, now)
            raise

    def explain(
        self, instance_id: str, trigger: str, actor: Actor, data: Mapping[str, Any] | None, assign: Mapping[str, str] | None
    ) -> Explanation:
        """See `Engine.explain`."""
        actor = normal_actor(actor)
        check_name("instance_id", instance_id)
        check_call(trigger, None)
        now = self.parts.clock.now()
        with self.parts.store.unit_of_work(read_only=True) as uow:
            record = instance_or_error(uow, instance_id)
            cw, calendar = self.definitions.compiled_for(uow, record.workflow, record.version, record.definition_hash)
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
                    entries_of=uow.state_entries.of,
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
        """See `Engine.available`."""
        actor = normal_actor(actor)
        check_name("instance_id", instance_id)
        is_system = isinstance(actor, SystemActor)
        if not is_system and "system" in actor.roles:
            return []
        with self.parts.store.unit_of_work(read_only=True) as uow:
            record = instance_or_error(uow, instance_id)
            cw, calendar = self.definitions.compiled_for(uow, record.workflow, record.version, record.definition_hash)
            return evaluate_available(cw, record, actor, now=self.parts.clock.now(), calendar=calendar, entries_of=uow.state_entries.of)

    def _log_rejection(
        self, exc: QaflowError, actor: Actor, instance_id: str | None, workflow: str | None, trigger: str, now: dt.datetime
    ) -> None:
        """Record a refused or rejected attempt, in a unit of work of its own."""
        if isinstance(exc, (InvalidActorError, InvalidRequestError)):
            event: SecurityEvent | None = invalid_call_event(exc, actor, instance_id, workflow, trigger, now)
        else:
            event = security_event(exc, actor, instance_id, workflow, trigger, now)
        if event is not None:
            with self.parts.store.unit_of_work() as uow:
                uow.security_log.add(event)


def normal_actor(actor: Actor) -> Actor:
    """The actor with an NFC id and its roles a frozenset of names, or `InvalidActorError`.

    Roles are a set of role names (any set, made a frozenset); a plain string, `None`, a list
    or a member that is not text is refused, never read as characters (`"qa_lead" in
    "qa_lead_shadow"` would hold).
    """
    kind = type(actor)
    # the usual case, checked cheaply on every event: an Actor with a frozenset of str roles and
    # a plain printable ASCII id without outer spaces
    if kind is Actor or kind is SystemActor:
        ident, roles = actor.id, actor.roles
        if (
            type(roles) is frozenset
            and type(ident) is str
            and ident.isascii()
            and ident.isprintable()
            and ident
            and ident[0] != " "
            and ident[-1] != " "
        ):
            for role in roles:
                if type(role) is not str:
                    break
            else:
                return actor
    return _checked_actor(actor)


def _checked_actor(actor: object) -> Actor:
    if not isinstance(actor, Actor):
        raise InvalidActorError(f"an actor is an engine.Actor, got {type(actor).__name__} {shortened(actor)}", actor_id=None)
    ident, roles = actor.id, actor.roles
    if not isinstance(ident, str):
        raise InvalidActorError(f"an actor id is text, got {type(ident).__name__}", actor_id=None)
    if not ident.strip() or ident != ident.strip() or not ident.isprintable():
        raise InvalidActorError(f"an actor id must be printable text without surrounding spaces, got {shortened(ident)}", actor_id=ident)
    if not isinstance(roles, AbstractSet):
        hint = " (a plain string is not read as role names)" if isinstance(roles, str) else ""
        raise InvalidActorError(
            f"an actor's roles are a set of role names, such as frozenset({{'qa_lead'}}); got {type(roles).__name__}{hint}",
            actor_id=ident,
        )
    names = []
    for role in roles:
        if not isinstance(role, str):
            raise InvalidActorError(f"an actor's roles are role names (text); got {type(role).__name__} {shortened(role)}", actor_id=ident)
        names.append(str.__str__(role))  # a str subclass (a StrEnum) as the plain text it stands for
    return dataclasses.replace(actor, id=ident if ident.isascii() else nfc(ident), roles=frozenset(names))


def check_call(trigger: object, idempotency_key: object, lock_version: object = None) -> None:
    """Refuse a trigger, idempotency key or `lock_version` of the wrong type (`InvalidRequestError`)."""
    if type(trigger) is not str or not trigger:
        raise InvalidRequestError(
            f"a trigger is the name of an event (non-empty text), got {type(trigger).__name__} {shortened(trigger)}", argument="trigger"
        )
    if idempotency_key is not None:
        if type(idempotency_key) is not str:
            raise InvalidRequestError(f"an idempotency key is text, got {type(idempotency_key).__name__}", argument="idempotency_key")
        if not idempotency_key or len(idempotency_key) > MAX_KEY or not idempotency_key.isprintable():
            raise InvalidRequestError(
                f"an idempotency key is 1 to {MAX_KEY} printable characters, got {len(idempotency_key)}: {shortened(idempotency_key)}",
                argument="idempotency_key",
            )
    if lock_version is not None and (type(lock_version) is bool or not isinstance(lock_version, int)):
        raise InvalidRequestError(
            f"lock_version is a whole number (an int), got {type(lock_version).__name__} {shortened(lock_version)}", argument="lock_version"
        )


def check_name(argument: str, value: object) -> None:
    """Refuse an instance or workflow id that is not text (`InvalidRequestError`)."""
    if type(value) is not str:
        raise InvalidRequestError(f"{argument} is text, got {type(value).__name__} {shortened(value)}", argument=argument)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40


def shortened(value: object, limit: int = 40) -> str:
    """`value` as a short repr: an error line never echoes a long input in full."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else repr(value[:limit]) + "…"
    try:
        return _SHORT.repr(value)
    except Exception:  # a caller's object whose repr fails is still named by its type
        return f"<{type(value).__name__}>"


def invalid_call_event(
    exc: QaflowError, actor: object, instance_id: object, workflow: object, trigger: object, now: dt.datetime
) -> SecurityEvent:
    """A call refused before it was judged (kind `invalid`), with what can be read of who
    claimed what: text only, shortened and printable, so the log row can always be written."""
    ident = "(not an actor)"
    claimed: tuple[str, ...] = ()
    if isinstance(actor, Actor):
        ident = _logged(actor.id) if isinstance(actor.id, str) else "(not text)"
        roles = actor.roles
        if isinstance(roles, str):
            claimed = (_logged(roles),)  # what was claimed, as the one name it is not
        elif isinstance(roles, (AbstractSet, list, tuple)):
            claimed = tuple(sorted(_logged(role) for role in roles if isinstance(role, str)))[:MAX_LOGGED_ROLES]
    return SecurityEvent(
        now,
        "invalid",
        ident,
        claimed,
        _logged(instance_id) if isinstance(instance_id, str) else None,
        _logged(workflow) if isinstance(workflow, str) else None,
        _logged(trigger) if isinstance(trigger, str) else None,
        (),
        str(exc),
    )


def _logged(text: str, limit: int = 200) -> str:
    return "".join(char if char.isprintable() else "?" for char in text[:limit])


def _kept(uow: UnitOfWork, scope: str, key: str, request_hash: str) -> IdempotencyRecord | None:
    kept = uow.idempotency.get(scope, key)
    if kept is not None and kept.request_hash != request_hash:
        raise ConflictError(f"idempotency key {key!r} was already used with a different request", retryable=False, idempotency_key=key)
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
