"""What each removal event does to an object's versions: one registry, one line a name.

Sources: MinIO ``internal/event/name.go`` (``s3:ObjectRemoved:*``,
``s3:LifecycleDelMarkerExpiration:Delete``), the AWS S3 event types
("Supported event types for SQS, SNS and Lambda": ``ObjectRemoved:Delete``,
``ObjectRemoved:DeleteMarkerCreated``, ``LifecycleExpiration:Delete``,
``LifecycleExpiration:DeleteMarkerCreated``) and Ceph's S3 notification
compatibility page (``ObjectLifecycle:Expiration:Current|NonCurrent|DeleteMarker``).
Names are compared without MinIO's ``s3:`` prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class RemovalEffect(StrEnum):
    """How a removal changes the versions of one key (see README "Versions and removals")."""

    DELETE = "delete"
    """With a version id: that version is gone (or, if it names a delete marker, the
    marker is gone and the version before it is current again). Without one (an
    unversioned bucket): every version created up to the removal is gone."""
    DELETE_MARKER = "delete_marker"
    """A delete marker was placed: the current version becomes noncurrent, and stays
    (it is current again if the marker is removed)."""
    ALL_VERSIONS = "all_versions"
    """Every version created up to the removal is gone."""
    NOTHING = "nothing"
    """Nothing was removed (MinIO's NoOP: the object or version did not exist)."""


@dataclass(frozen=True)
class RemovalRule:
    without_version: RemovalEffect
    with_version: RemovalEffect


def _same(effect: RemovalEffect) -> RemovalRule:
    return RemovalRule(effect, effect)


RECONCILE_REMOVAL_NAME: Final = "reconcile:ObjectRemoved"
"""The removal ``notifier reconcile --fix`` records for a key gone from its bucket."""

REMOVAL_RULES: Final[Mapping[str, RemovalRule]] = {
    "ObjectRemoved:Delete": _same(RemovalEffect.DELETE),
    "ObjectRemoved:DeleteMarkerCreated": _same(RemovalEffect.DELETE_MARKER),
    "ObjectRemoved:DeleteAllVersions": _same(RemovalEffect.ALL_VERSIONS),
    "ObjectRemoved:NoOP": _same(RemovalEffect.NOTHING),
    "LifecycleExpiration:Delete": _same(RemovalEffect.DELETE),
    "LifecycleExpiration:DeleteMarkerCreated": _same(RemovalEffect.DELETE_MARKER),
    # MinIO ILM: a delete marker that is the latest version expires with every version.
    "LifecycleDelMarkerExpiration:Delete": _same(RemovalEffect.ALL_VERSIONS),
    # Ceph: expiring the current object deletes it, or, in a versioned bucket, places
    # a delete marker over it.
    "ObjectLifecycle:Expiration:Current": RemovalRule(
        RemovalEffect.DELETE, RemovalEffect.DELETE_MARKER
    ),
    # Ceph: a noncurrent version expires; without its version id nothing is known.
    "ObjectLifecycle:Expiration:NonCurrent": RemovalRule(
        RemovalEffect.NOTHING, RemovalEffect.DELETE
    ),
    # Ceph: an expired delete marker is removed (by its version id).
    "ObjectLifecycle:Expiration:DeleteMarker": RemovalRule(
        RemovalEffect.NOTHING, RemovalEffect.DELETE
    ),
    RECONCILE_REMOVAL_NAME: _same(RemovalEffect.ALL_VERSIONS),
}
"""Removal event names and their effect; any other removal name is a plain DELETE."""

DEFAULT_RULE: Final = _same(RemovalEffect.DELETE)


def removal_effect(event_name: str, version_id: str | None) -> RemovalEffect:
    """The effect of one removal event; ``version_id`` ``"null"`` counts as none."""
    rule = REMOVAL_RULES.get(event_name.removeprefix("s3:"), DEFAULT_RULE)
    return rule.with_version if normal_version(version_id) else rule.without_version


def normal_version(version_id: str | None) -> str | None:
    """A version id, or None for none (S3 calls an unversioned object's version "null")."""
    return None if version_id in (None, "", "null") else version_id
