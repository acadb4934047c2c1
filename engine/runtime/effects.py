"""Effects (DESIGN §3.3): run in order, the transition's `do` then the target's `on_enter`.

`set` and `clear` change the working data (a `set` value is a literal, typed when the
workflow was compiled, or an `=expression`, validated like event data); `notify` becomes a
`Notification`, written to the outbox with the event. Each effect may have a `when`. If one
fails, the whole event is refused.

`spawn`, `cancel_children`, `fire_parent` and `extend` are not run: each is recorded as a
`PendingEffect` step record, so the caller can see what the definition asked for.
"""

from __future__ import annotations

from pydantic import ValidationError

from engine.canonical import CanonicalError
from engine.errors import Reason, TransitionRefusedError
from engine.expressions import ExpressionRuntimeError
from engine.language.fieldtypes import validation_message
from engine.results import Notification, PendingEffect
from engine.runtime.context import EventContext, WorkingData
from engine.runtime.machine import CompiledEffect, CompiledWorkflow
from engine.runtime.step import StepRecord


def run_effects(
    cw: CompiledWorkflow,
    effects: tuple[CompiledEffect, ...],
    work: WorkingData,
    ctx: EventContext,
    *,
    trigger: str,
    instance_id: str | None,
    entered_state: str | None,
    records: list[StepRecord],
) -> None:
    """Run `set`, `clear` and `notify` in order, appending their step records to `records`;
    record the rest as pending. A failure refuses."""
    for effect in effects:
        if entered_state is not None and effect.loc[0] == "states":
            ctx.state = entered_state  # on_enter effects run in the state being entered
        try:
            if effect.when is not None and not effect.when.evaluate(ctx):
                continue
            if effect.kind == "set":
                for op in effect.sets:
                    if op.expression is None:
                        work.put(op.field, op.typed, op.json)
                        continue
                    value = op.expression.evaluate(ctx)
                    typed = None if value is None else op.field_type.validate(value)
                    if typed is None and op.field in cw.required:
                        reason = Reason("effect_failed", f"an effect would unset the required field '{op.field}'", field=op.field)
                        raise TransitionRefusedError.of_event(trigger, instance_id, cw.id, reason)
                    work.put(op.field, typed, None if typed is None else cw.encoders[op.field](typed))
            elif effect.kind == "clear":
                for name in effect.clears:
                    work.put(name, None, None)
            elif effect.kind == "notify":
                records.append(_notification(cw, effect, work, ctx))
            else:
                records.append(PendingEffect(effect.kind, effect.loc))
        except (ExpressionRuntimeError, ValidationError, CanonicalError) as exc:  # not FunctionError: the host failed
            text = validation_message(exc) if isinstance(exc, ValidationError) else str(exc)
            where = ".".join(map(str, effect.loc))
            raise TransitionRefusedError.of_event(
                trigger, instance_id, cw.id, Reason("effect_failed", f"the effect at {where} failed: {text}")
            ) from exc


def _notification(cw: CompiledWorkflow, effect: CompiledEffect, work: WorkingData, ctx: EventContext) -> Notification:
    notify = effect.notify
    assert notify is not None  # a notify effect always carries its NotifyOp
    recipients = tuple(person for role in notify.roles if role in cw.assignable and (person := ctx.assignees.get(role)) is not None)
    message = notify.message.render(work.get, cw.params) if notify.message is not None else None
    return Notification(notify.roles, recipients, notify.template, message, notify.urgent)
