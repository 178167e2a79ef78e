"""Objects that are not data: job markers, checksums, table-format logs and manifests.

Each rule is a glob pattern and the reason recorded with the ``skipped`` row. A pattern
without ``/`` is matched against the file name; one with ``/`` against the key and each
of its trailing parts that starts a segment (so ``_delta_log/*`` matches at any depth).
``*`` also matches ``/``. Matching is case-sensitive, like keys. Operators add patterns
with ``NOTIFIER_IGNORE_PATTERNS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Final


@dataclass(frozen=True)
class NotData:
    pattern: str
    reason: str

    def matches(self, key: str) -> bool:
        return any(fnmatchcase(part, self.pattern) for part in _candidates(key, self.pattern))


NOT_DATA: Final = (
    NotData("_SUCCESS", "job marker (Hadoop/Spark _SUCCESS), not data"),
    NotData("_committed_*", "job commit marker (Databricks _committed_*), not data"),
    NotData("_started_*", "job start marker (Databricks _started_*), not data"),
    NotData("*.crc", "checksum file (Hadoop/Spark .crc), not data"),
    NotData("_temporary/*", "in-progress job output (Hadoop/Spark _temporary), not data yet"),
    NotData("_metadata", "Parquet summary file (repeats the footers of a dataset's files)"),
    NotData("_common_metadata", "Parquet summary file (the schema of a dataset's files)"),
    NotData("_delta_log/*", "Delta Lake transaction log or checkpoint, not data"),
    NotData("metadata/*.metadata.json", "Iceberg table metadata, not data"),
    NotData("metadata/*.avro", "Iceberg manifest or manifest list, not data"),
    NotData("metadata/version-hint.text", "Iceberg version hint, not data"),
    NotData(".hoodie/*", "Hudi timeline or table metadata, not data"),
    NotData(".hoodie_partition_metadata", "Hudi partition metadata, not data"),
)
"""What pipelines write next to their data; sources: Hadoop FileOutputCommitter, Databricks
DBIO commit protocol, the Delta Lake, Apache Iceberg and Apache Hudi table specifications."""


def not_data_reason(key: str, extra_patterns: Iterable[str] = ()) -> str | None:
    """Why ``key`` is not a data object, or None when it may be one."""
    for rule in NOT_DATA:
        if rule.matches(key):
            return rule.reason
    for pattern in extra_patterns:
        if NotData(pattern, "").matches(key):
            return f"matches ignore pattern '{pattern}' (NOTIFIER_IGNORE_PATTERNS)"
    return None


def _candidates(key: str, pattern: str) -> Iterator[str]:
    if "/" not in pattern:
        yield key.rsplit("/", 1)[-1]
        return
    yield key
    start = key.find("/")
    while start >= 0:
        yield key[start + 1 :]
        start = key.find("/", start + 1)
