"""A loaded workflow: the definition plus everything the loader worked out from it.

Built once per file by `engine.language.loader`; read-only afterwards. The runtime, the diagram and
the CLI read this and never the YAML again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.errors import Issue, Loc
from engine.expressions import CompiledExpression
from engine.expressions.scope import Scope
from engine.language.definition import WorkflowSpec
from engine.language.fieldtypes import FieldType
from engine.time.durations import Duration


@dataclass(frozen=True)
class Workflow:
    """One workflow version, checked and compiled.

    `expressions` and `durations` are keyed by the location of the key that holds them in
    the definition (`("transitions", 3, "checks", 0, "when")`), so every compiled piece can
    be traced to the line a QA lead wrote.
    """

    spec: WorkflowSpec
    path: str
    source: str
    scope: Scope
    field_types: dict[str, FieldType]
    params: dict[str, Any]
    expressions: dict[Loc, CompiledExpression] = field(default_factory=dict)
    durations: dict[Loc, Duration] = field(default_factory=dict)
    warnings: tuple[Issue, ...] = ()

    @property
    def id(self) -> str:
        return self.spec.workflow

    @property
    def version(self) -> int:
        return self.spec.version

    @cached_property
    def hash(self) -> str:
        return definition_hash(self.spec)


def definition_hash(spec: WorkflowSpec) -> str:
    """SHA-256 of the canonical JSON of the normalised model: comments and layout don't count."""
    data = spec.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
