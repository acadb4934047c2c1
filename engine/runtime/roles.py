"""Who may act: roles held, separation of duties, and the reasons given when they fail.

DESIGN §3.7. An assignable role (one any `assigns` or `start.assigns` lists) is held only
by the person currently assigned to it on the instance, whatever roles they claim; other
roles are directory roles, held by whoever carries them; `system` only by the engine's own
actor. The role recorded for an event is the first of the transition's `by` the actor holds.

For separation, a person holds a role on an instance when assigned to it, or once they have
acted in it there (`InstanceRecord.holders`). `separate` is checked for the person acting
and for everyone the event assigns; a refusal names both roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from engine.errors import Reason
from engine.results import Actor
from engine.runtime.machine import CompiledWorkflow, Rule
from engine.suggest import did_you_mean


def held_role(cw: CompiledWorkflow, by: tuple[str, ...], actor: Actor, is_system: bool, assignees: Mapping[str, str]) -> str | None:
    """The first role of `by` the actor holds on the instance, or None."""
    if len(by) == 1 and not is_system and by[0] in actor.roles and by[0] not in cw.assignable:
        return by[0]  # the usual case, one directory role the actor carries, without the loop
    for role in by:
        if role == "system":
            if is_system:
                return role
        elif is_system:
            continue
        elif role in cw.assignable:
            if assignees.get(role) == actor.id:
                return role
        elif role in actor.roles:
            return role
    return None


def role_refusal(cw: CompiledWorkflow, rule: Rule, actor: Actor, assignees: Mapping[str, str]) -> Reason:
    """Why the actor holds none of `rule.by`, naming each role and how it is held."""
    ways = []
    for role in rule.by:
        if role == "system":
            ways.append("system (the engine only)")
        elif role in cw.assignable:
            holder = assignees.get(role)
            ways.append(f"{role} (the person assigned: {holder})" if holder else f"{role} (nobody is assigned yet)")
        else:
            ways.append(role)
    who = "the engine" if actor.id == "system" else f"'{actor.id}'"
    return Reason(
        "role_not_held",
        f"'{rule.trigger}' is for {' or '.join(ways)}; {who} holds none of these here",
        role=rule.by[0] if len(rule.by) == 1 else None,
        roles=rule.by,
    )


def separation_reasons(
    cw: CompiledWorkflow,
    actor: Actor,
    role: str,
    *,
    is_system: bool,
    assignees_after: Mapping[str, str],
    holders: Mapping[str, tuple[str, ...]],
    assigned: Mapping[str, str],
) -> list[Reason]:
    """Breaches of `separate` this event would cause, for the actor and each person assigned."""
    conflicts = cw.conflicts
    reasons: list[Reason] = []
    if not is_system and role in conflicts:
        for other in conflicts[role]:
            if holds(actor.id, other, assignees_after, holders):
                reasons.append(_breach(actor.id, role, other, acting=True))
    for new_role, person in assigned.items():
        for other in conflicts.get(new_role, ()):
            if holds(person, other, assignees_after, holders) or (person == actor.id and other == role and not is_system):
                reasons.append(_breach(person, new_role, other, acting=False))
    return reasons


def holds(person: str, role: str, assignees: Mapping[str, str], holders: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether `person` holds `role` on the instance for separation: assigned, or has acted in it."""
    return assignees.get(role) == person or person in holders.get(role, ())


def _breach(person: str, role: str, other: str, *, acting: bool) -> Reason:
    doing = f"acting as '{role}'" if acting else f"being assigned as '{role}'"
    return Reason(
        "separation",
        f"separation of duties: '{person}' holds '{other}' on this instance, so can't be {doing} ('{role}' and '{other}' are separate)",
        role=role,
        roles=(role, other),
    )


def unknown_field_reason(code: str, kind: str, name: str, choices: Iterable[str], lead: str) -> Reason:
    """`'x' is not a field of W; did you mean 'y'?` for unknown fields and triggers."""
    return Reason(code, f"{lead} '{name}'{did_you_mean(name, choices)}", field=name if kind == "field" else None)
