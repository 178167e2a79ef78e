"""The fate of every version of one object, derived from the events about it.

The result is a pure function of the set of audit rows and removal events of one
key, never of the order in which they were processed: a postponed creation, a
removal delivered by another node or a rescan after the removal all end in the same
state. The rules (README "Versions and removals"):

- Rows are grouped into object versions: by version id in a versioned bucket; in an
  unversioned one, rows of the same etag next to each other in time are one upload
  seen twice (a webhook row and the rescan that retried it).
- A version's ``deleted_at`` is the earliest removal that removed it
  (:mod:`notifier.audit.removals`): a version-specific delete of its version id, or an
  unversioned delete or all-versions removal at or after its creation.
- Delete markers are versions without content: one placed makes what was current
  noncurrent; a delete of the marker's version id (or an all-versions removal) takes
  it away again.
- The current object is the newest version or marker still there; if that is a
  version, its best row (``ok``/``skipped`` before ``error``, a transient error last,
  then the latest) ``is_current``. Every other row is not current.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import total_ordering

from notifier.audit.removals import RemovalEffect, normal_version


@total_ordering
@dataclass(frozen=True)
class SortKey:
    """When an event happened, as well as its sender lets one tell.

    A whole-second time (a store's ``Last-Modified`` or a listing, as rescan records)
    only says "within that second", so it counts as the end of its second. Within one
    time, sequencers order events when both have one (MinIO's: the object's
    modification time in nanoseconds); otherwise the event stored first is older.
    """

    time: datetime
    sequence: int | None
    stored: int

    @classmethod
    def of(cls, time: datetime, sequencer: str | None, intake_event_id: int) -> SortKey:
        if time.microsecond == 0:
            time = time + timedelta(microseconds=999_999)
        return cls(time, _sequence(sequencer), intake_event_id)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SortKey):
            return NotImplemented
        if self.time != other.time:
            return self.time < other.time
        both = self.sequence is not None and other.sequence is not None
        if both and self.sequence != other.sequence:
            return (self.sequence or 0) < (other.sequence or 0)
        return self.stored < other.stored


@dataclass(frozen=True)
class VersionRow:
    """One audit row of the key, with the time and sequencer of its creation event."""

    row_id: int
    version_id: str | None
    etag: str | None
    event_time: datetime
    sequencer: str | None
    intake_event_id: int
    estado: str
    transient_error: bool = False

    @property
    def order(self) -> SortKey:
        return SortKey.of(self.event_time, self.sequencer, self.intake_event_id)

    @property
    def rank(self) -> int:
        """Which row stands for its version: lower is better."""
        if self.estado != "error":
            return 0
        return 2 if self.transient_error else 1


@dataclass(frozen=True)
class Removal:
    """One removal event of the key."""

    effect: RemovalEffect
    version_id: str | None
    event_time: datetime
    sequencer: str | None
    intake_event_id: int

    @property
    def order(self) -> SortKey:
        return SortKey.of(self.event_time, self.sequencer, self.intake_event_id)


@dataclass(frozen=True)
class RowState:
    deleted_at: datetime | None
    is_current: bool


@dataclass(frozen=True)
class _Version:
    version_id: str | None
    rows: tuple[VersionRow, ...]

    @property
    def order(self) -> SortKey:
        return min(row.order for row in self.rows)

    @property
    def created(self) -> datetime:
        return min(row.event_time for row in self.rows)

    def best(self) -> VersionRow:
        """The row standing for this version: the best estado, then the latest."""
        top = min(row.rank for row in self.rows)
        return max((row for row in self.rows if row.rank == top), key=lambda r: r.order)


def derive_states(rows: Iterable[VersionRow], removals: Iterable[Removal]) -> dict[int, RowState]:
    """``{row_id: RowState}`` for every row of one key."""
    removals = [r for r in removals if r.effect is not RemovalEffect.NOTHING]
    versions = _group(sorted(rows, key=lambda r: r.order))
    deleted = {id(v): _deleted_at(v, removals) for v in versions}
    heads: list[tuple[SortKey, _Version | None]] = [
        (v.order, v) for v in versions if deleted[id(v)] is None
    ]
    heads += [(m.order, None) for m in removals if _marker_stands(m, removals)]
    current = max(heads, key=lambda h: h[0])[1] if heads else None
    current_row = current.best().row_id if current is not None else None
    return {
        row.row_id: RowState(deleted_at=deleted[id(v)], is_current=row.row_id == current_row)
        for v in versions
        for row in v.rows
    }


def _group(rows: Sequence[VersionRow]) -> list[_Version]:
    by_version: dict[str, list[VersionRow]] = {}
    unversioned: list[list[VersionRow]] = []
    for row in rows:
        version = normal_version(row.version_id)
        if version is not None:
            by_version.setdefault(version, []).append(row)
        elif unversioned and row.etag is not None and unversioned[-1][-1].etag == row.etag:
            unversioned[-1].append(row)
        else:
            unversioned.append([row])
    return [_Version(v, tuple(group)) for v, group in by_version.items()] + [
        _Version(None, tuple(group)) for group in unversioned
    ]


def _deleted_at(version: _Version, removals: Sequence[Removal]) -> datetime | None:
    times = [r.event_time for r in removals if _removes(r, version)]
    return min(times, default=None)


def _removes(removal: Removal, version: _Version) -> bool:
    target = normal_version(removal.version_id)
    if removal.effect is RemovalEffect.DELETE:
        if target is not None:
            return target == version.version_id
        return version.created <= removal.event_time
    if removal.effect is RemovalEffect.ALL_VERSIONS:
        return version.created <= removal.event_time
    return False


def _marker_stands(marker: Removal, removals: Sequence[Removal]) -> bool:
    if marker.effect is not RemovalEffect.DELETE_MARKER:
        return False
    own = normal_version(marker.version_id)
    return not any(_removes_marker(removal, own, marker.event_time) for removal in removals)


def _removes_marker(removal: Removal, marker_version: str | None, placed: datetime) -> bool:
    if removal.effect is RemovalEffect.DELETE:
        return marker_version is not None and normal_version(removal.version_id) == marker_version
    return removal.effect is RemovalEffect.ALL_VERSIONS and placed <= removal.event_time


def _sequence(sequencer: str | None) -> int | None:
    """MinIO's and AWS's sequencers are hex numbers; anything else is none."""
    try:
        return int(sequencer or "", 16)
    except ValueError:
        return None
