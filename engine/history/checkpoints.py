"""History checkpoints: a digest of every chain head, kept outside the database (DESIGN §4.5).

`verify` alone finds an edited, reordered or deleted row inside a chain, but not a whole
instance deleted with its history, nor a chain rewritten from the start by someone who can
recompute SHA-256. A checkpoint written now and kept elsewhere (another machine, a signed
e-mail, a printout) lets a later `verify --against` find both: every instance it lists must
still exist, and its history must still have, at the checkpoint's seq, the hash it had then.

The checkpoint carries its own digest (HMAC-SHA256 with `QAFLOW_HISTORY_KEY`, else
SHA-256), so an edited checkpoint file is found too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.canonical import dumps, format_time
from engine.errors import CheckpointError
from engine.history.chain import ChainHasher
from engine.store.records import HistoryRow, InstanceRecord

FORMAT = 1


@dataclass(frozen=True, slots=True)
class CheckpointFinding:
    """One difference between a checkpoint and the database now."""

    instance_id: str
    problem: str
    seq: int | None = None


def make_checkpoint(hasher: ChainHasher, instances: Sequence[InstanceRecord], now: dt.datetime) -> dict[str, Any]:
    """The checkpoint of these instances' chain heads, with its digest."""
    body: dict[str, Any] = {
        "format": FORMAT,
        "created_at": format_time(now),
        "algorithm": hasher.algorithm,
        "instances": [
            {"id": record.id, "workflow": record.workflow, "seq": record.last_seq, "hash": record.last_hash}
            for record in sorted(instances, key=lambda record: record.id)
        ],
    }
    return {**body, "digest": hasher.digest(dumps(body))}


def check_checkpoint(hasher: ChainHasher, checkpoint: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The checkpoint's instance entries, once its shape and digest are right.

    Raises:
        CheckpointError: not a format-1 checkpoint, made with another algorithm, or altered.
    """
    if not isinstance(checkpoint, Mapping) or checkpoint.get("format") != FORMAT or not isinstance(checkpoint.get("instances"), list):
        raise CheckpointError("this is not a qaflow checkpoint (format 1)", problem="not_a_checkpoint")
    if checkpoint.get("algorithm") != hasher.algorithm:
        raise CheckpointError(
            f"the checkpoint was made with {checkpoint.get('algorithm')}, but this run uses {hasher.algorithm}: "
            "set QAFLOW_HISTORY_KEY as it was when the checkpoint was written",
            problem="other_algorithm",
        )
    body = {key: value for key, value in checkpoint.items() if key != "digest"}
    if checkpoint.get("digest") != hasher.digest(dumps(body)):
        raise CheckpointError("the checkpoint's digest does not match its content: the file was altered", problem="altered")
    entries: list[Mapping[str, Any]] = checkpoint["instances"]
    return entries


def compare(entry: Mapping[str, Any], record: InstanceRecord | None, rows: Sequence[HistoryRow]) -> CheckpointFinding | None:
    """What changed for one checkpointed instance since the checkpoint, if anything."""
    instance_id, seq = str(entry["id"]), int(entry["seq"])
    if record is None:
        return CheckpointFinding(instance_id, f"deleted since the checkpoint (it had {seq} history rows)")
    if len(rows) < seq or rows[seq - 1].seq != seq:
        return CheckpointFinding(instance_id, f"history row {seq} is gone since the checkpoint", seq)
    if rows[seq - 1].hash != entry["hash"]:
        return CheckpointFinding(instance_id, f"history up to row {seq} was rewritten since the checkpoint", seq)
    return None
