"""A batch's working set: what analysing a batch of rows reads, loaded in a few
statements, and what it changes, written in a few.

Analysis judges rows one by one in event-time order, each against the history before
it; a row's verdict can depend on the rows judged just before it (its run, its
inputs, the anomalies that keep a point out of a later history). A ``Workspace``
keeps that order and those answers without a query per row:

- before the batch, one pipelined round trip loads everything the batch's rows may
  ask for: the members near them in time (sessions), runs by key, each (phase,
  dataset)'s members in the anomaly window, each model's evaluations, and the
  lineage candidates, which depend only on the audit rows (objects by key, rows by
  run id, the latest output before a time, names);
- rows are then analysed in memory, in order; what a row changes (its member, run,
  links, anomalies) is seen by the rows after it, as it would have been in the
  database;
- after the batch, the changes are written with multi-row statements, in one more
  pipelined round trip.

Names a row declares but that match no object's key are looked up in one more round
trip, and run ids beyond the first RUN_IDS_PER_FETCH in one each.

Whatever the database held before the batch that a batch row could see is loaded; a
batch row's state is taken from the workspace once the batch changed it. So a batch
gives the verdicts analysing its rows one at a time gives (tests/integration/
test_analysis_batches.py).
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import psycopg

from notifier.analysis import lineage
from notifier.analysis.datasets import DatasetIdentity
from notifier.analysis.model import PHASES, AuditRow, Finding
from notifier.config import AnalysisSettings
from notifier.db import query

RowKey = tuple[str, int]
"""(phase, row_id): one audit row."""

ROW_COUNT_FLAGS: Final = frozenset({"row_count", "empty_output"})
"""Open anomalies that keep a point out of a later row-count history."""

METRIC_RULE: Final = "metric_regression"

RUN_IDS_PER_FETCH: Final = 64
"""Run ids taken from the sequence at a time (unused ones leave gaps, as upserts do)."""


@dataclass
class Source:
    """An audit row as a lineage input: what links, and the rules over them, need.

    ``dataset`` and ``open`` are the database's when loaded (``dataset`` None: no
    member then); the workspace's own state wins for rows it changed."""

    phase: str
    phase_table: str
    row_id: int
    event_time: datetime
    uri: str
    num_registros: int | None
    estado: str
    dataset: str | None = None
    open: list[tuple[str, str | None, float | None]] = field(default_factory=list)

    @property
    def key(self) -> RowKey:
        return (self.phase, self.row_id)


@dataclass
class Member:
    run: int
    dataset: str
    key_pattern: str
    event_time: datetime


@dataclass
class Run:
    id: int
    run_key: str
    grouped_by: str
    started_at: datetime
    ended_at: datetime
    new: bool = False
    changed: bool = False


@dataclass
class Entry:
    """A member of a (phase, dataset) group, or an evaluation of a model."""

    row_id: int
    event_time: datetime
    estado: str
    num_registros: int | None
    uri: str
    modelo_nombre: str | None
    has_columns: bool
    details: Mapping[str, Any]
    open_rules: frozenset[str]
    countable: int | None = None
    """The record count a later row-count history takes (ok, more than 0), else None."""

    def __post_init__(self) -> None:
        records = self.num_registros
        if self.estado == "ok" and records is not None and records > 0:
            self.countable = records

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.event_time, self.row_id)


@dataclass(frozen=True)
class Previous:
    """An earlier version a rule compares with: its details (or metrics), uri and time."""

    details: Mapping[str, Any]
    uri: str
    event_time: datetime


@dataclass(frozen=True)
class Input:
    """One input of a row (a lineage link with its source row)."""

    dataset: str
    num_registros: int | None
    estado: str
    method: str
    confidence: float
    uri: str


@dataclass
class _Group:
    entries: list[Entry] = field(default_factory=list)
    ids: set[int] = field(default_factory=set)
    flagged: set[int] = field(default_factory=set)
    """Members with an open row_count or empty_output anomaly (left out of histories)."""
    before: Previous | None = None

    def add(self, entry: Entry) -> None:
        if entry.row_id not in self.ids:
            self.ids.add(entry.row_id)
            bisect.insort(self.entries, entry, key=lambda e: e.order)


def _source(row: Sequence[Any], offset: int) -> Source:
    """A Source from the columns phase, phase_table, row_id, event_time, uri,
    num_registros, estado, dataset, open starting at ``offset``."""
    phase, table, row_id, at, uri, records, estado, dataset, opened = row[offset : offset + 9]
    return Source(
        phase, table, row_id, at, uri, records, estado, dataset, [tuple(x) for x in opened or []]
    )


def upstream_csv(phases: Sequence[str]) -> str:
    return ",".join(phases)


@dataclass
class _Plan:
    """What a batch's rows may ask for, worked out from the rows alone."""

    keys: list[RowKey]
    ranges: list[tuple[datetime, datetime]]
    """Times within the run gap of a row (merged): where session neighbours are."""
    run_keys: list[str]
    """Run keys the rows may upsert: their run ids', and their own session keys."""
    sessions: bool
    """Whether a transformation may look for its session inputs."""
    groups: dict[tuple[str, str], list[datetime]]
    """(phase, dataset) -> [first, last] time of the rows whose rules read its history."""
    previous: list[tuple[str, str]]
    """Groups whose latest member before the window a rule may compare with."""
    models: dict[str, list[datetime]]
    """Model name -> [first, last] time of its evaluations in the batch."""
    objects: list[tuple[str, str | None, str, datetime]]
    """Declared references: (upstream phases, bucket or None, key, time)."""
    run_ids: list[str]
    latest: list[tuple[str, datetime, datetime]]
    """(phase, time, since) of inferred inputs: the latest output in the window."""

    @classmethod
    def of(
        cls,
        rows: Sequence[AuditRow],
        identities: Sequence[DatasetIdentity],
        settings: AnalysisSettings,
    ) -> _Plan:
        gap = timedelta(minutes=settings.run_gap_minutes)
        lineage_window = timedelta(hours=settings.lineage_window_hours)
        groups: dict[tuple[str, str], list[datetime]] = {}
        models: dict[str, list[datetime]] = {}
        previous: set[tuple[str, str]] = set()
        for row, identity in zip(rows, identities, strict=True):
            need = _history_needed(row)
            if need == "model" and row.modelo_nombre:
                _widen(models, row.modelo_nombre, row.event_time)
            elif need is not None:
                _widen(groups, (row.phase, identity.dataset), row.event_time)
                if need == "previous":
                    previous.add((row.phase, identity.dataset))
        objects: list[tuple[str, str | None, str, datetime]] = []
        run_ids: set[str] = set()
        latest: list[tuple[str, datetime, datetime]] = []
        sessions = False
        for row in rows:
            upstream = lineage.UPSTREAM.get(row.phase)
            if upstream is None:
                continue
            declared = lineage.declared_of(row)
            for text in declared:
                for reading in lineage.parse_reference(text):
                    objects.append(
                        (upstream_csv(upstream), reading.bucket, reading.key, row.event_time)
                    )
            if declared:
                continue
            if row.run_id:
                run_ids.add(row.run_id)
            if row.phase == "transformation":
                sessions = True
            else:
                latest += [(p, row.event_time, row.event_time - lineage_window) for p in upstream]
        return cls(
            keys=[(r.phase, r.row_id) for r in rows],
            ranges=_merge_ranges((r.event_time - gap, r.event_time + gap) for r in rows),
            run_keys=sorted(
                {f"run_id:{r.run_id}" for r in rows if r.run_id}
                | {f"session:{r.phase}:{r.row_id}" for r in rows if not r.run_id}
            ),
            sessions=sessions,
            groups=groups,
            previous=[g for g in groups if g in previous],
            models=models,
            objects=list(dict.fromkeys(objects)),
            run_ids=sorted(run_ids),
            latest=list(dict.fromkeys(latest)),
        )


class Workspace:
    """The working set of one batch (see the module docstring)."""

    def __init__(self, conn: psycopg.Connection[Any], settings: AnalysisSettings) -> None:
        self.conn = conn
        self.settings = settings
        self.chunk: dict[RowKey, AuditRow] = {}
        self.members: dict[RowKey, Member] = {}
        self.by_run: dict[int, set[RowKey]] = defaultdict(set)
        self.runs: dict[int, Run] = {}
        self.run_of_key: dict[str, int] = {}
        self.merged_into: dict[int, int] = {}
        self.merges: list[int] = []
        self._session_times: list[tuple[datetime, int, str]] = []
        self._session_keys: set[RowKey] = set()
        self._free_ids: list[int] = []
        self.assigned: dict[RowKey, Member] = {}
        self.links: dict[RowKey, list[Any]] = {}
        self.findings: dict[RowKey, list[Finding]] = {}
        self.finding_runs: dict[RowKey, int] = {}
        self.groups: dict[tuple[str, str], _Group] = {}
        self.models: dict[str, _Group] = {}
        self.objects: dict[tuple[str, str | None, str, datetime], Source] = {}
        self.names: dict[tuple[str, str, datetime], tuple[Source, bool, bool]] = {}
        self.run_id_rows: dict[str, list[Source]] = defaultdict(list)
        self.latest: dict[tuple[str, datetime, datetime], Source] = {}
        self.run_inputs: dict[RowKey, Source] = {}

    # --- loading -------------------------------------------------------------------

    def load(self, rows: Sequence[AuditRow], identities: Sequence[DatasetIdentity]) -> None:
        """Everything ``rows`` (in analysis order) may ask for: sent together (one round
        trip in a pipeline), plus one query for names declared but not found as objects."""
        for row in rows:
            self.chunk[(row.phase, row.row_id)] = row
        plan = _Plan.of(rows, identities, self.settings)
        sent = self._send(plan)
        self._take_members(sent)
        self._take_history(plan, sent)
        self._take_models(plan, sent)
        self._take_lineage(plan, sent)
        self._load_names(rows)

    def _send(self, plan: _Plan) -> dict[str, psycopg.Cursor[Any]]:
        """Issue the plan's queries, results read later (pipelined when the caller is)."""
        conn, window = self.conn, timedelta(days=self.settings.window_days)
        near = {
            "starts": [s for s, _ in plan.ranges],
            "ends": [e for _, e in plan.ranges],
            "phases": [p for p, _ in plan.keys],
            "row_ids": [i for _, i in plan.keys],
        }
        sent = {
            "near": execute(conn, "analysis_batch_members", near),
            "by_key": execute(conn, "analysis_batch_runs_by_key", {"keys": plan.run_keys}),
        }
        if plan.sessions:
            sent["inputs"] = execute(
                conn, "analysis_batch_run_inputs_near", {**near, "keys": plan.run_keys}
            )
        if plan.groups:
            groups = list(plan.groups)
            sent["history"] = execute(
                conn,
                "analysis_batch_history",
                {
                    "phases": [p for p, _ in groups],
                    "datasets": [d for _, d in groups],
                    "starts": [plan.groups[g][0] - window for g in groups],
                    "ends": [plan.groups[g][1] for g in groups],
                },
            )
        if plan.previous:
            sent["before"] = execute(
                conn,
                "analysis_batch_history_before",
                {
                    "phases": [p for p, _ in plan.previous],
                    "datasets": [d for _, d in plan.previous],
                    "starts": [plan.groups[g][0] - window for g in plan.previous],
                },
            )
        if plan.models:
            models = list(plan.models)
            sent["evaluations"] = execute(
                conn,
                "analysis_batch_model_evaluations",
                {
                    "models": models,
                    "starts": [plan.models[m][0] for m in models],
                    "ends": [plan.models[m][1] for m in models],
                },
            )
        if plan.objects:
            sent["objects"] = execute(
                conn,
                "analysis_batch_find_objects",
                {
                    "phases": [o[0] for o in plan.objects],
                    "buckets": [o[1] for o in plan.objects],
                    "keys": [o[2] for o in plan.objects],
                    "ats": [o[3] for o in plan.objects],
                },
            )
        if plan.run_ids:
            sent["run_ids"] = execute(
                conn,
                "analysis_batch_rows_of_run_ids",
                {"run_ids": plan.run_ids, "phases": ["ingestion", "transformation", "training"]},
            )
        if plan.latest:
            sent["latest"] = execute(
                conn,
                "analysis_batch_latest_outputs",
                {
                    "phases": [x[0] for x in plan.latest],
                    "ats": [x[1] for x in plan.latest],
                    "sinces": [x[2] for x in plan.latest],
                },
            )
        return sent

    def _take_members(self, sent: Mapping[str, psycopg.Cursor[Any]]) -> None:
        """Members near the rows (sessions), runs by key, the runs' ingestion members."""
        for phase, row_id, run, dataset, pattern, at, run_key, grouped_by, s, e in sent["near"]:
            self._know_run(Run(run, run_key, grouped_by, s, e))
            self._add_member((phase, row_id), Member(run, dataset, pattern, at))
            if grouped_by == "session":
                self._add_session((phase, row_id), at)
        for run, run_key, grouped_by, s, e in sent["by_key"]:
            self._know_run(Run(run, run_key, grouped_by, s, e))
        for run, dataset, pattern, *rest in sent.get("inputs", ()):
            source = _source([*rest[:7], dataset, rest[7]], 0)
            self.run_inputs[source.key] = source
            if source.key not in self.members:
                self._add_member(source.key, Member(run, dataset, pattern, source.event_time))

    def _take_history(self, plan: _Plan, sent: Mapping[str, psycopg.Cursor[Any]]) -> None:
        """Each (phase, dataset)'s members in the window, and its latest before it."""
        groups = list(plan.groups)
        for key in groups:
            self.groups[key] = _Group()
        for ord_, row_id, at, estado, n, uri, model, cols, details, opened in sent.get(
            "history", ()
        ):
            group = self.groups[groups[ord_ - 1]]
            group.ids.add(row_id)
            if ROW_COUNT_FLAGS.intersection(opened):
                group.flagged.add(row_id)
            group.entries.append(
                Entry(row_id, at, estado, n, uri, model, bool(cols), details, frozenset(opened))
            )
        for group in self.groups.values():
            group.entries.sort(key=lambda x: x.order)
        for ord_, _, at, uri, details in sent.get("before", ()):
            self.groups[plan.previous[ord_ - 1]].before = Previous(details, uri, at)

    def _take_models(self, plan: _Plan, sent: Mapping[str, psycopg.Cursor[Any]]) -> None:
        """Each model's evaluations in the batch's span, and its latest good one before."""
        models = list(plan.models)
        for model in models:
            self.models[model] = _Group()
        for ord_, row_id, at, estado, uri, metrics, flagged in sent.get("evaluations", ()):
            opened = frozenset({METRIC_RULE} if flagged else ())
            entry = Entry(row_id, at, estado, None, uri, None, False, {"metrics": metrics}, opened)
            group = self.models[models[ord_ - 1]]
            if at < plan.models[models[ord_ - 1]][0]:
                group.before = Previous(entry.details, uri, at)
            else:
                group.entries.append(entry)
        for group in self.models.values():
            group.entries.sort(key=lambda x: x.order)

    def _take_lineage(self, plan: _Plan, sent: Mapping[str, psycopg.Cursor[Any]]) -> None:
        """Objects by key, rows by run id, the latest outputs: as lineage sources."""
        for row in sent.get("objects", ()):
            self.objects[plan.objects[row[0] - 1]] = _source(row, 1)
        for row in sent.get("run_ids", ()):
            self.run_id_rows[row[0]].append(_source(row, 1))
        for sources in self.run_id_rows.values():
            sources.sort(key=lambda s: (s.event_time, s.row_id))
        for row in sent.get("latest", ()):
            self.latest[plan.latest[row[0] - 1]] = _source(row, 1)

    def _load_names(self, rows: Sequence[AuditRow]) -> None:
        """The rows names declared (a dataset, a model) that no object key matched."""
        names: list[tuple[str, str, datetime]] = []
        for row in rows:
            upstream = lineage.UPSTREAM.get(row.phase)
            if upstream is None:
                continue
            for text in lineage.declared_of(row):
                if not any(
                    (upstream_csv(upstream), r.bucket, r.key, row.event_time) in self.objects
                    for r in lineage.parse_reference(text)
                ):
                    names.append((upstream_csv(upstream), text.strip("/"), row.event_time))
        names = list(dict.fromkeys(names))
        if not names:
            return
        found = execute(
            self.conn,
            "analysis_batch_find_by_name",
            {
                "phases": [n[0] for n in names],
                "names": [n[1] for n in names],
                "ats": [n[2] for n in names],
            },
        )
        for row in found:
            # ord, phase ... estado, dataset, named, is_card, open
            ord_, *rest = row
            source = _source([*rest[:8], rest[10]], 0)
            self.names[names[ord_ - 1]] = (source, bool(rest[8]), bool(rest[9]))

    def _know_run(self, run: Run) -> None:
        if run.id not in self.runs:
            self.runs[run.id] = run
            self.run_of_key[run.run_key] = run.id

    def _add_member(self, key: RowKey, member: Member) -> None:
        previous = self.members.get(key)
        if previous is not None:
            self.by_run[previous.run].discard(key)
        self.members[key] = member
        self.by_run[member.run].add(key)

    def _add_session(self, key: RowKey, at: datetime) -> None:
        if key in self._session_keys:
            return
        self._session_keys.add(key)
        bisect.insort(self._session_times, (at, key[1], key[0]))

    # --- runs --------------------------------------------------------------------------

    def resolve(self, run: int) -> int:
        while run in self.merged_into:
            run = self.merged_into[run]
        return run

    def upsert_run(self, run_key: str, grouped_by: str, at: datetime) -> int:
        found = self.run_of_key.get(run_key)
        if found is not None:
            run = self.runs[found]
            run.started_at = min(run.started_at, at)
            run.ended_at = max(run.ended_at, at)
            run.changed = True
            return found
        if not self._free_ids:
            count = max(1, min(RUN_IDS_PER_FETCH, len(self.chunk) - len(self.assigned)))
            self._free_ids = [
                int(r[0]) for r in execute(self.conn, "analysis_batch_run_ids", {"count": count})
            ][::-1]
        new = self._free_ids.pop()
        self.runs[new] = Run(new, run_key, grouped_by, at, at, new=True)
        self.run_of_key[run_key] = new
        return new

    def rekey_run(self, run_id: int, run_key: str, at: datetime) -> None:
        run = self.runs[run_id]
        if self.run_of_key.get(run.run_key) == run_id:
            del self.run_of_key[run.run_key]
        run.run_key = run_key
        run.started_at = min(run.started_at, at)
        run.changed = True
        self.run_of_key[run_key] = run_id

    def merge_runs(self, into: int, from_: int) -> None:
        """``from_``'s members and anomalies move to ``into``; ``from_`` goes."""
        run = self.runs.pop(from_)
        if self.run_of_key.get(run.run_key) == from_:
            del self.run_of_key[run.run_key]
        self.merged_into[from_] = into
        if not run.new:
            self.merges.append(from_)
        for key in self.by_run.pop(from_, set()):
            self.members[key].run = into
            self.by_run[into].add(key)

    def session_neighbours(
        self, row: AuditRow
    ) -> tuple[tuple[int, datetime] | None, tuple[int, datetime] | None]:
        """The nearest session member at or before the row's time, and after it (the row
        itself aside): (run, time) each."""
        times = self._session_times
        own = (row.event_time, row.row_id, row.phase)
        before = after = None
        index = bisect.bisect_right(times, (row.event_time, float("inf"), ""))
        for at, row_id, phase in reversed(times[:index][-2:]):
            if (at, row_id, phase) != own:
                before = (self.resolve(self.members[(phase, row_id)].run), at)
                break
        for at, row_id, phase in times[index : index + 2]:
            if (at, row_id, phase) != own:
                after = (self.resolve(self.members[(phase, row_id)].run), at)
                break
        return before, after

    def set_member(self, row: AuditRow, run: int, identity: DatasetIdentity) -> None:
        key = (row.phase, row.row_id)
        member = Member(run, identity.dataset, identity.key_pattern, row.event_time)
        self._add_member(key, member)
        self.assigned[key] = member
        if self.runs[self.resolve(run)].grouped_by == "session":
            self._add_session(key, row.event_time)
        group = self.groups.get((row.phase, identity.dataset))
        if group is not None:
            info = row.info
            group.add(
                Entry(
                    row.row_id,
                    row.event_time,
                    row.estado,
                    row.num_registros,
                    row.uri,
                    row.modelo_nombre,
                    isinstance(info.get("columns"), list),
                    info,
                    frozenset(),
                )
            )

    # --- what rows and rules ask ---------------------------------------------------------

    def open_rules(self, key: RowKey, loaded: Iterable[str]) -> frozenset[str]:
        """The rules open on a row now: the batch's verdict once it judged the row."""
        findings = self.findings.get(key)
        if findings is not None:
            return frozenset(f.rule for f in findings)
        return frozenset(loaded)

    def dataset_of(self, source: Source) -> str | None:
        member = self.members.get(source.key)
        return member.dataset if member is not None else source.dataset

    def open_of(self, source: Source) -> list[tuple[str, str | None, float | None]]:
        findings = self.findings.get(source.key)
        if findings is not None:
            return [(f.rule, f.dataset, f.score) for f in findings]
        return source.open

    def chunk_source(self, row: AuditRow) -> Source:
        return Source(
            row.phase,
            row.phase_table,
            row.row_id,
            row.event_time,
            row.uri,
            row.num_registros,
            row.estado,
        )

    def find_object(
        self, phases: Sequence[str], bucket: str | None, key: str, at: datetime
    ) -> Source | None:
        return self.objects.get((upstream_csv(phases), bucket, key, at))

    def find_by_name(
        self, phases: Sequence[str], name: str, at: datetime
    ) -> tuple[Source, bool] | None:
        """The best of the database's answer and the batch rows that match now."""
        best: tuple[tuple[bool, bool, datetime, int], Source, bool] | None = None
        loaded = self.names.get((upstream_csv(phases), name, at))
        if loaded is not None:
            source, named, is_card = loaded
            best = ((named, not is_card, source.event_time, source.row_id), source, named)
        for key, row in self.chunk.items():
            if row.phase not in phases or row.estado != "ok" or row.event_time > at:
                continue
            named = row.modelo_nombre == name or row.nombre_dataset == name
            member = self.members.get(key)
            if not named and (
                member is None or (member.dataset != name and name not in member.dataset.split("/"))
            ):
                continue
            order = (named, row.format != "model_card", row.event_time, row.row_id)
            if best is None or order > best[0]:
                best = (order, self.chunk_source(row), named)
        return None if best is None else (best[1], best[2])

    def rows_of_run_id(self, phase: str, run_id: str, at: datetime) -> list[Source]:
        return [
            s for s in self.run_id_rows.get(run_id, []) if s.phase == phase and s.event_time <= at
        ]

    def latest_output_before(self, phase: str, at: datetime, since: datetime) -> Source | None:
        return self.latest.get((phase, at, since))

    def session_inputs(self, run: int, phase: str, at: datetime) -> list[Source]:
        """The run's ok members of ``phase`` written up to ``at``, in time order."""
        found = []
        for key in self.by_run.get(run, ()):
            if key[0] != phase:
                continue
            member = self.members[key]
            if member.event_time > at:
                continue
            row = self.chunk.get(key)
            if row is not None:
                if row.estado == "ok":
                    found.append(self.chunk_source(row))
            elif key in self.run_inputs:
                found.append(self.run_inputs[key])
        found.sort(key=lambda s: (self.members[s.key].event_time, s.row_id))
        return found

    def store_links(self, row: AuditRow, links: list[Any]) -> None:
        self.links[(row.phase, row.row_id)] = links

    def inputs(self, row: AuditRow) -> list[Input]:
        """The row's inputs by its links (lineage_inputs)."""
        found = []
        for link in self.links.get((row.phase, row.row_id), []):
            source = link.source
            if source is None:
                continue
            found.append(
                Input(
                    self.dataset_of(source) or source.uri,
                    source.num_registros,
                    source.estado,
                    link.method,
                    link.confidence,
                    source.uri,
                )
            )
        return found

    def flagged_inputs(self, row: AuditRow, rule: str) -> list[tuple[str | None, float | None]]:
        """Inputs of the row with an open anomaly of ``rule``: (its dataset, its score)."""
        found = []
        for link in self.links.get((row.phase, row.row_id), []):
            if link.source is None:
                continue
            found += [(d, s) for r, d, s in self.open_of(link.source) if r == rule]
        return found

    def row_counts(
        self, phase: str, dataset: str, row_id: int, since: datetime, until: datetime
    ) -> list[int]:
        group = self.groups.get((phase, dataset))
        if group is None:
            return []
        entries = group.entries
        low = bisect.bisect_left(entries, (since, -1), key=lambda e: e.order)
        high = bisect.bisect_right(entries, (until, row_id), key=lambda e: e.order)
        flagged = group.flagged
        return [
            e.countable
            for e in entries[low:high]
            if e.countable is not None and e.row_id != row_id and e.row_id not in flagged
        ]

    def previous_schema(
        self, phase: str, dataset: str, row_id: int, until: datetime
    ) -> Previous | None:
        group = self.groups.get((phase, dataset))
        if group is None:
            return None
        for entry in reversed(group.entries):
            if entry.row_id == row_id or entry.order > (until, row_id):
                continue
            if entry.estado == "ok" and entry.has_columns:
                return Previous(entry.details, entry.uri, entry.event_time)
        return group.before

    def previous_evaluation(
        self, model: str | None, dataset: str, row_id: int, until: datetime
    ) -> Previous | None:
        """The latest earlier ok evaluation of the model (else, of the results' dataset
        with no model name) not itself flagged; ``details`` are its metrics."""
        group = self.models.get(model) if model else self.groups.get(("evaluation", dataset))
        if group is None:
            return None
        for entry in reversed(group.entries):
            if entry.row_id == row_id or entry.order > (until, row_id):
                continue
            if entry.estado != "ok" or (not model and entry.modelo_nombre is not None):
                continue
            if METRIC_RULE in self.open_rules(("evaluation", entry.row_id), entry.open_rules):
                continue
            return Previous(entry.details.get("metrics") or {}, entry.uri, entry.event_time)
        before = group.before
        if before is None:
            return None
        return Previous(before.details.get("metrics") or {}, before.uri, before.event_time)

    # --- anomalies -----------------------------------------------------------------------

    def judged(self, row: AuditRow, findings: list[Finding], run: int) -> None:
        """The row's verdict: these findings are open, its other anomalies resolved."""
        key = (row.phase, row.row_id)
        self.findings[key] = findings
        self.finding_runs[key] = run
        group = self.groups.get((row.phase, self.members[key].dataset))
        if group is not None:
            if any(f.rule in ROW_COUNT_FLAGS for f in findings):
                group.flagged.add(row.row_id)
            else:
                group.flagged.discard(row.row_id)

    # --- writing -------------------------------------------------------------------------

    def flush(self) -> None:
        """Write the batch's changes: runs, merges, members, links, anomalies."""
        conn = self.conn
        existing = [r for r in self.runs.values() if r.changed and not r.new]
        created = [r for r in self.runs.values() if r.new]
        merged = [(old, self.resolve(old)) for old in self.merges]
        assigned = list(self.assigned.items())
        linked = [(k, v) for k, v in self.links.items() if k[0] in lineage.UPSTREAM]
        links = [(k, link) for k, v in linked for link in v]
        judged = list(self.findings.items())
        found = [(k, f) for k, v in judged for f in v]
        if existing:
            execute(
                conn,
                "analysis_batch_update_runs",
                {
                    "ids": [r.id for r in existing],
                    "keys": [r.run_key for r in existing],
                    "starts": [r.started_at for r in existing],
                    "ends": [r.ended_at for r in existing],
                },
            )
        if created:
            execute(
                conn,
                "analysis_batch_insert_runs",
                {
                    "ids": [r.id for r in created],
                    "keys": [r.run_key for r in created],
                    "grouped_by": [r.grouped_by for r in created],
                    "starts": [r.started_at for r in created],
                    "ends": [r.ended_at for r in created],
                },
            )
        if merged:
            execute(
                conn,
                "analysis_batch_merge_runs",
                {"froms": [f for f, _ in merged], "intos": [i for _, i in merged]},
            )
            execute(conn, "analysis_batch_delete_runs", {"ids": [f for f, _ in merged]})
        if assigned:
            execute(
                conn,
                "analysis_batch_upsert_members",
                {
                    "rows": _records(
                        {
                            "phase": k[0],
                            "row_id": k[1],
                            "run": self.resolve(m.run),
                            "dataset": m.dataset,
                            "key_pattern": m.key_pattern,
                            "event_time": m.event_time,
                        }
                        for k, m in assigned
                    )
                },
            )
        if linked:
            execute(conn, "analysis_batch_delete_links", _ids_by_phase(k for k, _ in linked))
        if links:
            execute(
                conn,
                "analysis_batch_insert_links",
                {
                    "rows": _records(
                        {
                            "from_table": link.from_table,
                            "from_id": link.from_id,
                            "to_table": f"{k[0]}_events",
                            "to_id": k[1],
                            "method": link.method,
                            "confidence": link.confidence,
                            "reference": link.reference,
                            "reason": link.reason,
                        }
                        for k, link in links
                    )
                },
            )
        if found:
            save_findings(conn, [(f, self.resolve(self.finding_runs[k])) for k, f in found])
        if judged:
            execute(
                conn,
                "analysis_batch_resolve_anomalies",
                {
                    **_ids_by_phase(k for k, _ in judged),
                    "kept": [f.fingerprint for _, f in found],
                },
            )

    def final_runs(self) -> list[int]:
        """The runs the batch's rows ended in."""
        return sorted({self.resolve(m.run) for m in self.assigned.values()})


def save_findings(
    conn: psycopg.Connection[Any], found: Sequence[tuple[Finding, int | None]]
) -> None:
    """Insert or refresh the anomalies of ``found`` (finding, run): one statement."""
    if not found:
        return
    latest = {f.fingerprint: (f, run) for f, run in found}
    execute(
        conn,
        "analysis_batch_upsert_anomalies",
        {
            "rows": _records(
                {
                    "fingerprint": f.fingerprint,
                    "rule": f.rule,
                    "phase": f.phase,
                    "row_id": f.row_id,
                    "dataset": f.dataset,
                    "run": run,
                    "severity": f.severity,
                    "reason": f.reason,
                    "score": f.score,
                    "details": dict(f.details),
                    "observed_at": f.observed_at,
                }
                for f, run in latest.values()
            )
        },
    )


def execute(
    conn: psycopg.Connection[Any], name: str, params: Mapping[str, Any] | None = None
) -> psycopg.Cursor[Any]:
    """Run a named batch query, prepared on the connection at once (analysis sets
    generic plans for its transactions: planned once, not on every batch)."""
    return conn.execute(query(name), params, prepare=True)


def _ids_by_phase(keys: Iterable[RowKey]) -> dict[str, list[int]]:
    """Row ids by phase: one array parameter per phase."""
    ids: dict[str, list[int]] = {phase: [] for phase in PHASES}
    for phase, row_id in keys:
        ids[phase].append(row_id)
    return ids


def _records(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as one JSON array for ``json_to_recordset``: one parameter, however many
    rows (psycopg dumps a long array parameter element by element in Python)."""
    return json.dumps(list(rows), default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _history_needed(row: AuditRow) -> str | None:
    """What of its history a row's rules read: ``"model"`` (the model's evaluations),
    ``"previous"`` (its dataset's members and the latest before the window: schema
    drift, an evaluation without a model name), ``"window"`` (the members only: row
    count), or None (no rule reads history for it)."""
    if row.estado != "ok":
        return None
    info = row.info
    if row.phase == "evaluation":
        metrics = info.get("metrics")
        if not isinstance(metrics, dict) or not metrics:
            return None
        return "model" if row.modelo_nombre else "previous"
    if row.phase not in ("ingestion", "transformation"):
        return None
    if isinstance(info.get("columns"), list):
        return "previous"
    return "window" if row.num_registros else None


def _widen(bounds: dict[Any, list[datetime]], key: Any, at: datetime) -> None:
    found = bounds.get(key)
    if found is None:
        bounds[key] = [at, at]
    else:
        found[0] = min(found[0], at)
        found[1] = max(found[1], at)


def _merge_ranges(ranges: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
