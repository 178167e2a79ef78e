"""What a model reader returns: typed facts about one artifact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

ARTIFACT: Final = "artifact"
METADATA: Final = "metadata"
SIDECAR: Final = "sidecar"
SOURCES_BY_PRECEDENCE: Final = (METADATA, SIDECAR, ARTIFACT)
"""Where a fact may come from, strongest first; key-path templates (module
``notifier.inspection.paths``, helper `results`) come after all of these."""


@dataclass(frozen=True)
class ModelFacts:
    """Facts read from a model file's own bytes.

    ``parametros``: hyperparameters and identifying facts (class, counts), JSON-ready;
    ``details``: format-specific facts kept out of ``parametros`` (imports, inputs...);
    ``num_registros``: training records, only when the file states it;
    ``dataset``: the training dataset's name, only when the file states it.
    """

    format: str
    parametros: Mapping[str, Any] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)
    num_registros: int | None = None
    dataset: str | None = None
