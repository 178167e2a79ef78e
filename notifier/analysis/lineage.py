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
from typing import Any, Final

import psycopg

from notifier.analysis.datasets import identify
from notifier.analysis.model import AuditRow
from notifier.config import AnalysisSettings
from notifier.db import query

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
    from_table: str | None
    from_id: int | None
    method: str
    confidence: float
    reason: str
    reference: str | None = None


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


def derive(
    conn: psycopg.Connection[Any], settings: AnalysisSettings, row: AuditRow, run: int
) -> list[Link]:
    """The links into ``row`` (its inputs); empty for ingestion rows."""
    upstream = UPSTREAM.get(row.phase)
    if upstream is None:
        return []
    if row.phase == "evaluation":
        declared = [row.modelo_nombre] if row.modelo_nombre else []
    else:
        declared = declared_references(row)
    if declared:
        return [_resolve_declared(conn, ref, upstream, row.event_time) for ref in declared]
    if row.run_id:
        links = _by_run_id(conn, row, upstream)
        if links:
            return links
    return _inferred(conn, settings, row, upstream, run)


def store(conn: psycopg.Connection[Any], row: AuditRow, links: list[Link]) -> None:
    """Replace the links into ``row`` with ``links``."""
    if row.phase not in UPSTREAM:
        return  # nothing links into an ingestion row
    target = {"to_table": row.phase_table, "to_id": row.row_id}
    conn.execute(query("delete_links_to"), target)
    for link in links:
        conn.execute(
            query("insert_link"),
            {
                **target,
                "from_table": link.from_table,
                "from_id": link.from_id,
                "method": link.method,
                "confidence": link.confidence,
                "reference": link.reference,
                "reason": link.reason,
            },
        )


def _resolve_declared(
    conn: psycopg.Connection[Any], text: str, phases: tuple[str, ...], before: datetime
) -> Link:
    for reading in parse_reference(text):
        found = conn.execute(
            query("find_object"),
            {"phases": list(phases), "bucket": reading.bucket, "key": reading.key, "at": before},
        ).fetchone()
        if found is not None:
            return Link(found[0], found[1], "declared", DECLARED, f"declared: {text}", text)
    found = conn.execute(
        query("find_by_name"), {"phases": list(phases), "name": text.strip("/"), "at": before}
    ).fetchone()
    if found is not None:
        return Link(
            found[0],
            found[1],
            "declared",
            DECLARED if found[3] else DECLARED_BY_NAME,
            f"declared name {text}: {'named' if found[3] else 'matched by key'} {found[2]}, "
            "its latest object before this row",
            text,
        )
    return Link(
        None, None, "declared", DECLARED, f"declared {text}: not among audited objects", text
    )


def _by_run_id(conn: psycopg.Connection[Any], row: AuditRow, phases: tuple[str, ...]) -> list[Link]:
    for phase in phases:
        rows = conn.execute(
            query("rows_of_run_id"), {"phase": phase, "run_id": row.run_id, "at": row.event_time}
        ).fetchall()
        if rows:
            return [
                Link(table, row_id, "run_id", RUN_ID, f"same run_id {row.run_id}")
                for table, row_id in rows
            ]
    return []


def _session_inputs(
    conn: psycopg.Connection[Any], row: AuditRow, phase: str, run: int
) -> list[Link]:
    """The run's earlier objects of ``phase``: those of the output's dataset name when
    some are (``raw/flows`` for ``silver/flows``), else all of them."""
    name = dataset_of(row).partition("/")[2]
    rows = conn.execute(
        query("session_inputs"),
        {"run": run, "at": row.event_time, "phase": phase, "name": name},
    ).fetchall()
    named = [r for r in rows if r[3]]
    return [
        Link(
            table,
            row_id,
            "inferred",
            INFERRED,
            f"written earlier in the same run{' under the same dataset name' if named else ''}"
            f" ({uri})",
        )
        for table, row_id, uri, _ in (named or rows)
    ]


def _inferred(
    conn: psycopg.Connection[Any],
    settings: AnalysisSettings,
    row: AuditRow,
    phases: tuple[str, ...],
    run: int,
) -> list[Link]:
    if row.phase == "transformation":
        return _session_inputs(conn, row, phases[0], run)
    since = row.event_time - timedelta(hours=settings.lineage_window_hours)
    for phase in phases:
        found = conn.execute(
            query("latest_output_before"), {"phase": phase, "at": row.event_time, "since": since}
        ).fetchone()
        if found is not None:
            return [
                Link(
                    found[0],
                    found[1],
                    "inferred",
                    INFERRED,
                    f"latest {phase} output before it ({found[2]}), "
                    f"within {settings.lineage_window_hours} h",
                )
            ]
    return []
