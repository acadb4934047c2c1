"""A judged event, not yet stored: the `Step`, and the records of what else it does.

The runtime returns steps and storage persists them (STYLE: sismic's `model/steps.py`).
Everything an event does beyond the new state, data and assignees is a *step record* in
`Step.records`, in the order the effects ran: a message for people (`Notification`), an
effect recorded but not run (`PendingEffect`). `engine.runtime.commit` writes each kind of
record where it belongs (a notification to the outbox), so a new kind of consequence is a
new record type and one branch there, never another field here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.errors import CandidateReport
from engine.results import Notification, PendingEffect
from engine.runtime.machine import Rule

StepRecord = Notification | PendingEffect


@dataclass(slots=True, kw_only=True)
class Step:
    """An accepted event, worked out and not yet stored.

    `from_state` is None for a start; `to_state` None for an internal event (no `to`), and
    then `state` is the unchanged source. `data` is the JSON-form data after the event,
    `changes` what differs from before, `written` what the event sent (as recorded in the
    history payload). `assignees` and `holders` are after the event, `assigned` what it
    assigned. `candidates` reports every candidate considered (for `explain`).
    """

    rule: Rule
    role: str
    from_state: str | None
    to_state: str | None
    state: str
    entered_from: str | None
    data: Mapping[str, Any]
    changes: dict[str, Any]
    written: dict[str, Any]
    assignees: Mapping[str, str]
    assigned: dict[str, str]
    holders: Mapping[str, tuple[str, ...]]
    comment: str | None
    records: Sequence[StepRecord] = ()
    candidates: tuple[CandidateReport, ...] = ()

    @property
    def entered(self) -> bool:
        """Whether the event entered a state (a start or a transition with `to`), not an internal event."""
        return self.to_state is not None

    @property
    def notifications(self) -> tuple[Notification, ...]:
        return tuple(record for record in self.records if isinstance(record, Notification))

    @property
    def pending(self) -> tuple[PendingEffect, ...]:
        return tuple(record for record in self.records if isinstance(record, PendingEffect))
