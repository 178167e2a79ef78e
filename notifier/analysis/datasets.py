"""Dataset identity: which history an object belongs to, from its key.

Pipelines write one object per run, day or partition under a stable prefix:
``flows/2026-11-29/part-00001.csv``, ``flows/year=2026/month=11/day=29/data.parquet``,
``run-42/flows_20261129.csv``. The variable parts (dates, run ids, UUIDs, hex hashes,
part and version numbers, Hive partitions) are abstracted into a *key pattern*
(``flows/{date}/part-{n}.csv``); dropping them leaves the *dataset*, prefixed by the
bucket (``raw/flows``). A name from a key-path template (``nombre_dataset`` on data
rows, ``modelo_nombre`` on models) wins over the key. The approach is DataHub's
``path_specs`` and OpenLineage's dataset naming (``s3://bucket`` + a name), applied
without configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PLACEHOLDERS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (
        "{uuid}",
        re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    ),
    (
        "{date}",
        re.compile(
            r"(?<!\d)\d{4}-\d{2}-\d{2}(?:[T_ ]\d{2}[:-]?\d{2}(?:[:-]?\d{2}(?:\.\d+)?)?Z?)?(?!\d)"
        ),
    ),
    (
        "{date}",
        re.compile(
            r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:T?\d{4,6}Z?)?(?!\d)"
        ),
    ),
    (
        "{hash}",
        re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}(?![0-9A-Za-z])"),
    ),
    ("{n}", re.compile(r"\d+")),
)
"""Variable parts of a key, most specific first; each becomes its placeholder."""

FILLER_WORDS: Final = frozenset(
    {"part", "run", "batch", "v", "version", "c", "chunk", "shard", "file", "snapshot", "dt"}
)
"""Words that only frame a variable part (``part-{n}``, ``run-{n}``, ``v{n}``)."""

_PLACEHOLDER = re.compile(r"\{(?:uuid|date|hash|n|run|value)\}")
_SEPARATORS = re.compile(r"[-_. ]+")
_PARTITION = re.compile(r"^([A-Za-z_][\w-]*)=(.+)$")


@dataclass(frozen=True)
class DatasetIdentity:
    """``dataset``: ``bucket/name``; ``key_pattern``: the key with variables abstracted."""

    dataset: str
    key_pattern: str


def key_pattern(key: str, run_id: str | None = None) -> str:
    """``flows/2026-11-29/part-00001.csv`` -> ``flows/{date}/part-{n}.csv``.

    A known ``run_id`` is replaced by ``{run}`` first; a Hive partition's value by
    ``{value}`` unless a more specific placeholder matches it.
    """
    segments = []
    for segment in key.split("/"):
        if run_id:
            segment = segment.replace(run_id, "{run}")
        partition = _PARTITION.match(segment)
        if partition:
            value = _abstract(partition.group(2))
            segments.append(f"{partition.group(1)}={value if '{' in value else '{value}'}")
        else:
            segments.append(_abstract(segment))
    return "/".join(segments)


def dataset_name(pattern: str) -> str:
    """The stable part of a key pattern: variable segments dropped, extensions removed.

    ``flows/{date}/part-{n}.csv`` -> ``flows``; ``sales_{date}.csv`` -> ``sales``;
    ``flows/{date}/flows.csv`` -> ``flows`` (a file named as its folder adds nothing);
    ``{date}.csv`` -> ``""``.
    """
    *folders, file_name = pattern.split("/")
    stem = file_name if file_name.startswith(".") else file_name.split(".", 1)[0]
    kept = [name for name in (_stable(s) for s in folders) if name]
    file_part = _stable(stem)
    if file_part and (not kept or file_part != kept[-1]):
        kept.append(file_part)  # flows/{date}/flows.csv is dataset flows, not flows/flows
    return "/".join(kept)


def identify(
    bucket: str,
    key: str,
    *,
    run_id: str | None = None,
    declared_name: str | None = None,
) -> DatasetIdentity:
    """The dataset an object belongs to; ``declared_name`` (a template's) wins."""
    pattern = key_pattern(key, run_id)
    name = (declared_name or "").strip().strip("/") or dataset_name(pattern)
    return DatasetIdentity(f"{bucket}/{name}" if name else bucket, pattern)


def _abstract(segment: str) -> str:
    protected = _PLACEHOLDER.split(segment)
    markers = _PLACEHOLDER.findall(segment)
    out = []
    for index, text in enumerate(protected):
        for placeholder, pattern in PLACEHOLDERS:
            text = pattern.sub(placeholder, text)
        out.append(text)
        if index < len(markers):
            out.append(markers[index])
    return "".join(out)


def _stable(segment: str) -> str:
    """A segment's stable name, or "" when the segment is only variable."""
    if "=" in segment and _PARTITION.match(segment):
        return ""
    if not _PLACEHOLDER.search(segment):
        return segment
    words = [w for w in _SEPARATORS.split(_PLACEHOLDER.sub(" ", segment)) if w]
    kept = [w for w in words if w.lower() not in FILLER_WORDS]
    if not kept:
        return ""
    separator = next((c for c in segment if c in "-_"), "_")
    return separator.join(kept)
