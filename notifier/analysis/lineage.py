"""Lineage: which rows a row was made from, how that is known, and how sure it is.

Links go from an input to the row that used it:

- a dataset object -> a training row (a model);
- a training row -> an evaluation row;
- an ingestion (or earlier transformation) object -> a transformation output.

Three methods, strongest first; the first that yields anything is used:

==========  ===========  ==================================================================
method      confidence   how
==========  ===========  ==================================================================
declared    1.0          the object names its input: ``details.dataset`` /
                         ``parametros.dataset`` of a model (metadata, sidecar, MLmodel),
                         ``details.sources`` / ``details.inputs``, an evaluation's
                         ``modelo_nombre``. A reference is ``s3://bucket/key``,
                         ``bucket/key`` or a bare key, all resolving to the same object
                         (its latest version written up to the row's time).
declared    0.8          the reference names a dataset (``silver/flows``) or a model
                         name found only in a key: its latest object before the row.
run_id      0.9          the latest-phase upstream rows sharing the row's ``run_id``.
inferred    0.5          no declaration and no run id: the latest upstream ``ok`` output
                         written within NOTIFIER_LINEAGE_WINDOW_HOURS before the row
                         (a transformation's inputs: its run's earlier ingestion
                         objects, only those of its dataset name when there are some).
==========  ===========  ==================================================================

A declared reference that matches nothing audited is kept (``from_id`` NULL,
``reference`` holding the text): the declaration is a fact even when the object is
not in the audit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from notifier.analysis.datasets import identify
from notifier.analysis.model import AuditRow
from notifier.config import AnalysisSettings

if TYPE_CHECKING:
    from notifier.analysis.workspace import Source, Workspace

DECLARED: Final = 1.0
DECLARED_BY_NAME: Final = 0.8
RUN_ID: Final = 0.9
INFERRED: Final = 0.5

DATASET_FIELDS: Final = ("dataset", "datasets", "training_dataset", "source_dataset")
SOURCE_FIELDS: Final = ("sources", "inputs", "source")

UPSTREAM: Final[Mapping[str, tuple[str, ...]]] = {
    "training": ("transformation", "ingestion"),
    "evaluation": ("training",),
    "transformation": ("ingestion",),
}
"""Where each phase's inputs come from, preferred first."""


@dataclass(frozen=True)
class Link:
    """A link into a row; ``source`` is the input row (None: a declared reference that
    matches nothing audited)."""

    source: Source | None
    method: str
    confidence: float
    reason: str
    reference: str | None = None

    @property
    def from_table(self) -> str | None:
        return None if self.source is None else self.source.phase_table

    @property
    def from_id(self) -> int | None:
        return None if self.source is None else self.source.row_id


@dataclass(frozen=True)
class Reference:
    """A parsed dataset or object reference: ``s3://b/k``, ``b/k`` or ``k``."""

    text: str
    bucket: str | None
    key: str


def parse_reference(text: str) -> list[Reference]:
    """The readings of a reference, most specific first.

    ``s3://raw/flows/a.csv`` -> bucket raw, key flows/a.csv. ``raw/flows/a.csv`` ->
    (bucket raw, key flows/a.csv), then (any bucket, key raw/flows/a.csv).
    """
    value = text.strip()
    for scheme in ("s3://", "s3a://", "s3n://"):
        if value.lower().startswith(scheme):
            bucket, _, key = value[len(scheme) :].partition("/")
            return [Reference(value, bucket, key)] if key else []
    value = value.lstrip("/")
    readings = []
    head, sep, rest = value.partition("/")
    if sep and rest:
        readings.append(Reference(value, head, rest))
    if value:
        readings.append(Reference(value, None, value))
    return readings


def declared_of(row: AuditRow) -> list[str]:
    """What a row declares it was made from: an evaluation its model's name, others
    their declared references."""
    if row.phase == "evaluation":
        return [row.modelo_nombre] if row.modelo_nombre else []
    return declared_references(row)


def declared_references(row: AuditRow) -> list[str]:
    """The inputs a row names itself."""
    info = row.info
    fields = DATASET_FIELDS if row.phase == "training" else SOURCE_FIELDS
    found: list[str] = []
    parametros = info.get("parametros")
    sources: list[Mapping[str, Any]] = [info, parametros if isinstance(parametros, dict) else {}]
    for source in sources:
        for name in (*fields, *SOURCE_FIELDS):
            found.extend(_strings(source.get(name)))
    return list(dict.fromkeys(found))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str) and value.strip():
        yield value.strip()
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key in ("uri", "path", "key", "name"):
            if isinstance(value.get(key), str):
                yield value[key]
                return


def dataset_of(row: AuditRow) -> str:
    return identify(
        row.bucket, row.object_key, run_id=row.run_id, declared_name=row.declared_name
    ).dataset


def derive(ws: Workspace, settings: AnalysisSettings, row: AuditRow, run: int) -> list[Link]:
    """The links into ``row`` (its inputs); empty for ingestion rows."""
    upstream = UPSTREAM.get(row.phase)
    if upstream is None:
        return []
    declared = declared_of(row)
    if declared:
        return [_resolve_declared(ws, ref, upstream, row.event_time) for ref in declared]
    if row.run_id:
        links = _by_run_id(ws, row, upstream)
        if links:
            return links
    return _inferred(ws, settings, row, upstream, run)


def _resolve_declared(ws: Workspace, text: str, phases: tuple[str, ...], before: datetime) -> Link:
    for reading in parse_reference(text):
        found = ws.find_object(phases, reading.bucket, reading.key, before)
        if found is not None:
            return Link(found, "declared", DECLARED, f"declared: {text}", text)
    named = ws.find_by_name(phases, text.strip("/"), before)
    if named is not None:
        source, by_name = named
        return Link(
            source,
            "declared",
            DECLARED if by_name else DECLARED_BY_NAME,
            f"declared name {text}: {'named' if by_name else 'matched by key'} {source.uri}, "
            "its latest object before this row",
            text,
        )
    return Link(None, "declared", DECLARED, f"declared {text}: not among audited objects", text)


def _by_run_id(ws: Workspace, row: AuditRow, phases: tuple[str, ...]) -> list[Link]:
    assert row.run_id is not None
    for phase in phases:
        sources = ws.rows_of_run_id(phase, row.run_id, row.event_time)
        if sources:
            return [
                Link(source, "run_id", RUN_ID, f"same run_id {row.run_id}") for source in sources
            ]
    return []


def _session_inputs(ws: Workspace, row: AuditRow, phase: str, run: int) -> list[Link]:
    """The run's earlier objects of ``phase``: those of the output's dataset name when
    some are (``raw/flows`` for ``silver/flows``), else all of them."""
    name = dataset_of(row).partition("/")[2]
    sources = ws.session_inputs(run, phase, row.event_time)
    named = [s for s in sources if (ws.dataset_of(s) or "").partition("/")[2] == name]
    return [
        Link(
            source,
            "inferred",
            INFERRED,
            f"written earlier in the same run{' under the same dataset name' if named else ''}"
            f" ({source.uri})",
        )
        for source in (named or sources)
    ]


def _inferred(
    ws: Workspace,
    settings: AnalysisSettings,
    row: AuditRow,
    phases: tuple[str, ...],
    run: int,
) -> list[Link]:
    if row.phase == "transformation":
        return _session_inputs(ws, row, phases[0], run)
    since = row.event_time - timedelta(hours=settings.lineage_window_hours)
    for phase in phases:
        found = ws.latest_output_before(phase, row.event_time, since)
        if found is not None:
            return [
                Link(
                    found,
                    "inferred",
                    INFERRED,
                    f"latest {phase} output before it ({found.uri}), "
                    f"within {settings.lineage_window_hours} h",
                )
            ]
    return []
