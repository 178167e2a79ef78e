"""Each version's fate from the events about it, whatever the order they arrive in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from notifier.audit.removals import RemovalEffect, removal_effect
from notifier.audit.transient import is_transient
from notifier.audit.versions import Removal, VersionRow, derive_states
from notifier.intake.model import EventKind
from notifier.intake.s3_records import event_kind

T0 = datetime(2026, 11, 29, 12, 0, 0, 123_000, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def row(row_id, seconds, version=None, etag=None, estado="ok", reason=None, stored=None):
    return VersionRow(
        row_id=row_id,
        version_id=version,
        etag=etag or f"etag-{row_id}",
        event_time=at(seconds),
        sequencer=None,
        intake_event_id=stored if stored is not None else row_id,
        estado=estado,
        transient_error=is_transient(estado, reason),
    )


def removal(name, seconds, version=None, stored=100):
    return Removal(
        effect=removal_effect(name, version),
        version_id=version,
        event_time=at(seconds),
        sequencer=None,
        intake_event_id=stored,
    )


def states(rows, removals):
    return {k: (v.deleted_at, v.is_current) for k, v in derive_states(rows, removals).items()}


def test_version_delete_before_newer_version_in_every_order():
    # v1 at t1, v2 at t2, DELETE versionId=v1 at t3; stored (arrived) in any order.
    expected = {1: (at(3), False), 2: (None, True)}
    for order in itertools.permutations(range(3)):
        stored = {step: position for position, step in enumerate(order)}
        rows = [row(1, 1, "v1", stored=stored[0]), row(2, 2, "v2", stored=stored[1])]
        removals = [removal("s3:ObjectRemoved:Delete", 3, "v1", stored=stored[2])]
        assert states(rows, removals) == expected, order


def test_noop_removes_nothing():
    rows = [row(1, 1, "v1")]
    noop = removal("s3:ObjectRemoved:NoOP", 2, "00000000-0000-0000-0000-00000000dead")
    assert states(rows, [noop]) == {1: (None, True)}


def test_delete_of_an_unknown_version_removes_nothing():
    rows = [row(1, 1, "v1")]
    assert states(rows, [removal("s3:ObjectRemoved:Delete", 2, "other")]) == {1: (None, True)}


def test_unversioned_overwrite_makes_the_older_row_not_current():
    assert states([row(1, 1), row(2, 2)], []) == {1: (None, False), 2: (None, True)}


def test_unversioned_delete_removes_rows_created_up_to_it_only():
    rows = [row(1, 1), row(2, 2), row(3, 5)]
    result = states(rows, [removal("s3:ObjectRemoved:Delete", 3)])
    assert result == {1: (at(3), False), 2: (at(3), False), 3: (None, True)}


def test_delete_marker_makes_the_current_version_noncurrent_and_its_removal_restores_it():
    rows = [row(1, 1, "v1")]
    marker = removal("s3:ObjectRemoved:DeleteMarkerCreated", 2, "m1", stored=50)
    assert states(rows, [marker]) == {1: (None, False)}
    unmark = removal("s3:ObjectRemoved:Delete", 3, "m1", stored=51)
    assert states(rows, [marker, unmark]) == {1: (None, True)}
    assert states(rows, [unmark, marker]) == {1: (None, True)}


def test_a_version_after_the_marker_is_current():
    rows = [row(1, 1, "v1"), row(2, 3, "v2")]
    marker = removal("s3:ObjectRemoved:DeleteMarkerCreated", 2, "m1")
    assert states(rows, [marker]) == {1: (None, False), 2: (None, True)}


def test_deleting_the_current_version_makes_the_previous_one_current():
    rows = [row(1, 1, "v1"), row(2, 2, "v2")]
    assert states(rows, [removal("s3:ObjectRemoved:Delete", 3, "v2")]) == {
        1: (None, True),
        2: (at(3), False),
    }


def test_all_versions_removal():
    rows = [row(1, 1, "v1"), row(2, 2, "v2")]
    result = states(rows, [removal("s3:ObjectRemoved:DeleteAllVersions", 3)])
    assert result == {1: (at(3), False), 2: (at(3), False)}


def test_later_success_supersedes_a_transient_error_of_the_same_upload():
    error = row(1, 2, etag="e", estado="error", reason="gave up after 8 attempts: S3 down")
    # The rescan's row carries the object's Last-Modified: a whole second, earlier.
    retried = VersionRow(
        row_id=2,
        version_id=None,
        etag="e",
        event_time=T0.replace(microsecond=0),
        sequencer=None,
        intake_event_id=7,
        estado="ok",
    )
    assert states([error, retried], []) == {1: (None, False), 2: (None, True)}
    assert states([retried, error], []) == {1: (None, False), 2: (None, True)}


def test_a_final_error_is_current_until_something_else_arrives():
    rows = [row(1, 1, etag="e", estado="error", reason="not a gzipped file")]
    assert states(rows, []) == {1: (None, True)}


def test_whole_second_times_count_as_the_end_of_their_second():
    # Webhook row at 12:00:00.123 (etag a), rescan of the overwrite listed at 12:00:00.
    webhook = row(1, 0, etag="a")
    rescanned = VersionRow(2, None, "b", T0.replace(microsecond=0), None, 9, "ok")
    assert states([webhook, rescanned], []) == {1: (None, False), 2: (None, True)}


def test_sequencers_order_events_of_the_same_time():
    same = at(1)
    older = VersionRow(1, None, "a", same, "17F0000000000002", 9, "ok")
    newer = VersionRow(2, None, "b", same, "17F0000000000003", 1, "ok")
    assert states([older, newer], []) == {1: (None, False), 2: (None, True)}


@pytest.mark.parametrize(
    ("name", "version", "effect"),
    [
        ("ObjectLifecycle:Expiration:Current", None, RemovalEffect.DELETE),
        ("ObjectLifecycle:Expiration:Current", "v1", RemovalEffect.DELETE_MARKER),
        ("ObjectLifecycle:Expiration:NonCurrent", "v1", RemovalEffect.DELETE),
        ("ObjectLifecycle:Expiration:DeleteMarker", "m1", RemovalEffect.DELETE),
        ("LifecycleExpiration:Delete", None, RemovalEffect.DELETE),
        ("s3:LifecycleExpiration:DeleteMarkerCreated", "m1", RemovalEffect.DELETE_MARKER),
        ("s3:LifecycleDelMarkerExpiration:Delete", None, RemovalEffect.ALL_VERSIONS),
        ("s3:ObjectRemoved:NoOP", "v1", RemovalEffect.NOTHING),
        ("s3:ObjectRemoved:Delete", "null", RemovalEffect.DELETE),
        ("seaweedfs:delete", None, RemovalEffect.DELETE),
    ],
)
def test_removal_names_and_their_effect(name, version, effect):
    assert removal_effect(name, version) is effect


@pytest.mark.parametrize(
    "name",
    [
        "ObjectLifecycle:Expiration:Current",
        "ObjectLifecycle:Expiration:NonCurrent",
        "ObjectLifecycle:Expiration:DeleteMarker",
        "LifecycleExpiration:Delete",
        "LifecycleExpiration:DeleteMarkerCreated",
        "s3:ObjectRemoved:NoOP",
    ],
)
def test_expiry_names_are_removals_at_intake(name):
    assert event_kind(name) is EventKind.REMOVED


@pytest.mark.parametrize(
    "name",
    ["ObjectLifecycle:Expiration:AbortMultipartUpload", "ObjectLifecycle:Transition:Current"],
)
def test_lifecycle_names_that_remove_no_version_are_not_removals(name):
    assert event_kind(name) is None


def test_transient_causes():
    assert is_transient("error", "gave up after 8 attempts: S3 unreachable")
    assert is_transient("error", "inspection timed out after 600 s")
    assert not is_transient("error", "not a gzipped file")
    assert not is_transient("skipped", "gave up after 8 attempts: S3 unreachable")
