"""What the engine's services share: the store, the clocks, the function registry and the
chain's hasher, made once by `Engine` and passed to each service (STYLE: collaborators are
passed in, never globals)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.errors import NotFoundError
from engine.expressions import FunctionRegistry
from engine.history.chain import ChainHasher
from engine.store.protocol import Store, UnitOfWork
from engine.store.records import InstanceRecord
from engine.time.clock import Clock


@dataclass(frozen=True, slots=True)
class EngineParts:
    """The collaborators of one engine.

    `clock` gives the effective time of events ("now"); `wall_clock` when they are really
    recorded, None when it is the same system clock (then an event's two times are one
    reading). `closures` are the deployment's closure days, for calendars that count them.
    """

    store: Store
    clock: Clock
    wall_clock: Clock | None
    functions: FunctionRegistry
    hasher: ChainHasher
    closures: frozenset[dt.date]

    def recorded(self, now: dt.datetime) -> dt.datetime:
        """When an event at effective time `now` is really recorded."""
        return now if self.wall_clock is None else self.wall_clock.now()


def instance_or_error(uow: UnitOfWork, instance_id: str) -> InstanceRecord:
    """The instance, or NotFoundError naming it."""
    record = uow.instances.get(instance_id)
    if record is None:
        raise NotFoundError(f"there is no instance '{instance_id}'", kind="instance", name=instance_id)
    return record
