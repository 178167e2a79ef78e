"""Key-path templates: names, run ids, dates and partitions read from an object's key.

In the spirit of DataHub's S3 ``path_specs``: a template such as
``{modelo_nombre}/{run_id}/{file}`` says what each segment of a key means. Templates
are set per bucket (``NOTIFIER_PATH_TEMPLATES``), several per bucket, tried in order;
the first that matches the whole key wins.

Template grammar (segments separated by ``/``, matched against the decoded key):

- ``{name}`` a named placeholder: one or more characters inside one segment.
  ``modelo_nombre``, ``nombre_dataset`` and ``run_id`` fill the phase tables' columns;
  any other name (``[a-z_][a-z0-9_]*``) is kept in ``details.path_fields``.
- ``{file}`` the object's file name; only in the last segment, not recorded (the row
  has ``nombre_archivo``).
- ``{*}`` or ``*`` any text inside one segment (possibly empty).
- ``**`` a whole segment: any number of segments, none included (at most two per
  template, which bounds matching time).
- anything else is literal text. Placeholders may share a segment with text
  (``run-{run_id}``, ``{modelo_nombre}.joblib``); when several share one, each takes
  the shortest text that lets the rest match.

Whatever the templates, every key is also read for:

- dates: ``year=2026/month=11/day=29`` (Hive), ``2026/11/29`` (three segments),
  ``2026-11-29`` and ``20261129`` anywhere (``dt=2026-11-29``, ``sales_20261129.csv``),
  years 1970-2199, checked as calendar dates. The first found (Hive first) becomes
  ``details.partition_date`` (ISO 8601: ``2026-11-29``, or ``2026-11`` without a day);
- Hive-style ``key=value`` directory segments, kept in ``details.path_fields``; a
  segment named after a column (``run_id=run-42``) fills that column.

Precedence: what the inspector found in the object's content or metadata wins; the key
only fills what is still missing. ``details.sources`` records, per column, where its
value came from (``content``, ``metadata``, ``path``); ``details.path_template`` the
template that matched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Final

from notifier.inspection.base import Inspection
from notifier.inspection.fields import clip

__all__ = [
    "COLUMNS",
    "NO_TEMPLATES",
    "KeyFacts",
    "PathTemplate",
    "PathTemplates",
    "TemplateError",
    "apply_key_facts",
    "compile_template",
    "parse_path_templates",
    "read_key",
]

COLUMNS: Final = ("modelo_nombre", "nombre_dataset", "run_id")
"""Placeholders that fill the phase tables' columns of the same name."""

FILE_PLACEHOLDER: Final = "file"
ANY_BUCKET: Final = "*"
"""A template entry for bucket ``*`` applies to every bucket, after its own templates."""

MAX_DEEP_WILDCARDS: Final = 2
"""``**`` segments per template: each one multiplies the matching work by the key's depth."""

SOURCE_PATH: Final = "path"

_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_TOKEN = re.compile(r"\{([^{}]*)\}|\*|[{}]")
_HIVE = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*)=(.+)")
_DASHED_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_COMPACT_DATE = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_YEAR = re.compile(r"\d{4}")
_MONTH_OR_DAY = re.compile(r"\d{2}")
_YEARS: Final = range(1970, 2200)


class TemplateError(ValueError):
    """A template or the templates setting is malformed; the message says where."""


@dataclass(frozen=True)
class PathTemplate:
    """One compiled template: ``text`` as written, ``names`` its recorded placeholders."""

    text: str
    pattern: re.Pattern[str] = field(repr=False, compare=False)
    names: tuple[str, ...]

    def match(self, key: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(key)
        if found is None:
            return None
        return {name: found.group(name) for name in self.names}


@dataclass(frozen=True)
class PathTemplates:
    """Templates per bucket, in the order they are tried."""

    by_bucket: Mapping[str, tuple[PathTemplate, ...]] = field(default_factory=dict)

    def for_bucket(self, bucket: str) -> tuple[PathTemplate, ...]:
        return self.by_bucket.get(bucket, ()) + self.by_bucket.get(ANY_BUCKET, ())

    @property
    def buckets(self) -> frozenset[str]:
        return frozenset(self.by_bucket) - {ANY_BUCKET}


NO_TEMPLATES: Final = PathTemplates()


def parse_path_templates(text: str) -> PathTemplates:
    """``"models={modelo_nombre}/{file};models=**/{file}"`` -> templates per bucket.

    Entries are ``bucket=template``, separated by ``;`` or new lines; a bucket may have
    several entries, tried in the order written. Raises TemplateError.
    """
    by_bucket: dict[str, list[PathTemplate]] = {}
    for entry in filter(None, (e.strip() for e in re.split(r"[;\n]", text))):
        bucket, sep, template = (part.strip() for part in entry.partition("="))
        if not sep or not bucket or not template:
            raise TemplateError(f"{entry!r} is not bucket=template")
        try:
            compiled = compile_template(template)
        except TemplateError as exc:
            raise TemplateError(f"bucket {bucket!r}: {exc}") from None
        by_bucket.setdefault(bucket, []).append(compiled)
    return PathTemplates({bucket: tuple(found) for bucket, found in by_bucket.items()})


def compile_template(text: str) -> PathTemplate:
    """One template (grammar in the module docstring) -> a PathTemplate; TemplateError."""
    if text.startswith("/") or text.endswith("/"):
        raise TemplateError(f"template {text!r} must not start or end with '/'")
    segments = text.split("/")
    if "" in segments:
        raise TemplateError(f"template {text!r} has an empty segment ('//')")
    if segments.count("**") > MAX_DEEP_WILDCARDS:
        raise TemplateError(f"template {text!r} has more than {MAX_DEEP_WILDCARDS} '**' segments")
    names: list[str] = []
    parts: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:[^/]*/)*")
            continue
        parts.append(_segment_regex(text, segment, last, names) + ("" if last else "/"))
    return PathTemplate(text, re.compile("".join(parts)), tuple(names))


def _segment_regex(text: str, segment: str, last: bool, names: list[str]) -> str:
    if "**" in segment:
        raise TemplateError(f"template {text!r}: '**' must be a whole segment")
    regex: list[str] = []
    position = 0
    for token in _TOKEN.finditer(segment):
        regex.append(re.escape(segment[position : token.start()]))
        position = token.end()
        name = token.group(1)
        if token.group(0) in ("{", "}"):
            raise TemplateError(f"template {text!r}: unbalanced brace in {segment!r}")
        if token.group(0) == "*" or name == "*":
            regex.append("[^/]*?")
        elif name == FILE_PLACEHOLDER:
            if not last:
                raise TemplateError(f"template {text!r}: {{file}} belongs in the last segment")
            regex.append("[^/]+?")
        elif name is not None and _NAME.fullmatch(name):
            if name in names:
                raise TemplateError(f"template {text!r}: placeholder {{{name}}} appears twice")
            names.append(name)
            regex.append(f"(?P<{name}>[^/]+?)")
        else:
            raise TemplateError(
                f"template {text!r}: {{{name}}} is not a placeholder name"
                " (lower-case letters, digits and '_', or '*')"
            )
    regex.append(re.escape(segment[position:]))
    return "".join(regex)


@dataclass(frozen=True)
class KeyFacts:
    """What a key says: column values, other fields, a partition date, the template."""

    columns: Mapping[str, str] = field(default_factory=dict)
    path_fields: Mapping[str, str] = field(default_factory=dict)
    partition_date: str | None = None
    template: str | None = None


def read_key(bucket: str, key: str, templates: PathTemplates = NO_TEMPLATES) -> KeyFacts:
    """Everything the key says, from the first matching template, Hive segments and dates."""
    segments = key.split("/")
    hive = _hive_fields(segments[:-1])
    template, placeholders = _first_match(templates.for_bucket(bucket), key)
    found = {**hive, **placeholders}
    columns = {name: clip(found[name]) for name in COLUMNS if found.get(name)}
    path_fields = {name: clip(value) for name, value in found.items() if name not in COLUMNS}
    return KeyFacts(columns, path_fields, _partition_date(segments, hive), template)


def _first_match(
    candidates: tuple[PathTemplate, ...], key: str
) -> tuple[str | None, dict[str, str]]:
    for template in candidates:
        matched = template.match(key)
        if matched is not None:
            return template.text, matched
    return None, {}


def _hive_fields(directories: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for segment in directories:
        matched = _HIVE.fullmatch(segment)
        if matched is not None:
            fields.setdefault(matched.group(1).lower(), matched.group(2))
    return fields


def _partition_date(segments: list[str], hive: Mapping[str, str]) -> str | None:
    """The key's date (ISO 8601), by the rules in the module docstring; None without one."""
    hive_date = _calendar(hive.get("year"), hive.get("month"), hive.get("day"))
    if hive_date is not None:
        return hive_date
    for index in range(len(segments) - 2):
        year, month, day = segments[index : index + 3]
        digits = _YEAR.fullmatch(year) and _MONTH_OR_DAY.fullmatch(month)
        if digits and _MONTH_OR_DAY.fullmatch(day) and (found := _calendar(year, month, day)):
            return found
    key = "/".join(segments)
    candidates = [*_DASHED_DATE.finditer(key), *_COMPACT_DATE.finditer(key)]
    for matched in sorted(candidates, key=lambda m: m.start()):
        found = _calendar(*matched.groups())
        if found is not None:
            return found
    return None


def _calendar(year: str | None, month: str | None, day: str | None) -> str | None:
    """``2026-11-29``, ``2026-11`` (no day) or None when the parts are not a real date."""
    if year is None or month is None or not year.isdigit() or not month.isdigit():
        return None
    if int(year) not in _YEARS:
        return None
    try:
        if day is None:
            return date(int(year), int(month), 1).isoformat()[:7]
        if not day.isdigit():
            return None
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def apply_key_facts(inspection: Inspection, facts: KeyFacts) -> Inspection:
    """``inspection`` with what the key says added where the inspector left a gap."""
    if not (facts.columns or facts.path_fields or facts.partition_date):
        return inspection
    details: dict[str, Any] = dict(inspection.details)
    recorded = details.get("sources")
    sources: dict[str, Any] = dict(recorded) if isinstance(recorded, Mapping) else {}
    for name, value in facts.columns.items():
        if details.get(name) is None:
            details[name] = value
            sources[name] = SOURCE_PATH
    if sources and (recorded is None or isinstance(recorded, Mapping)):
        details["sources"] = sources
    if facts.path_fields:
        found = details.get("path_fields")
        details["path_fields"] = {
            **facts.path_fields,
            **(found if isinstance(found, Mapping) else {}),
        }
    if facts.partition_date and details.get("partition_date") is None:
        details["partition_date"] = facts.partition_date
    if facts.template is not None:
        details["path_template"] = facts.template
    return replace(inspection, details=details)
