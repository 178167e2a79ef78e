"""OpenLineage: one RunEvent per pipeline run notifier derived, COMPLETE or FAIL.

Built with the openlineage-python client's model and serializer (spec 2-0-2), and
sent through notifier's outbox rather than the client's transport, so an event
survives restarts and is posted once whatever the number of workers.

Shape, for consumers that accept only run events (OpenMetadata takes only COMPLETE
events with at least one input and one output; Google Dataplex and Amazon DataZone
take only RunEvents):

- ``eventType``: FAIL for a ``failed`` run, COMPLETE for any other finished one
  (``complete``, ``anomalous``, ``incomplete``: it wrote what it wrote); nothing while
  a run is ``in_progress``. ``eventTime`` is the run's last write.
- ``run.runId``: a UUID derived from the run's ``run_key`` and start (stable across
  ``notifier analyze`` rebuilds). ``job``: NOTIFIER_OPENLINEAGE_NAMESPACE / JOB_NAME.
- ``inputs``: the run's ingestion (raw) datasets, and datasets of earlier runs that
  lineage links to the run's rows (a model trained on last week's silver data);
  ``outputs``: the run's transformation, training and evaluation datasets. A dataset
  is ``s3://<bucket>`` + its name (notifier.analysis.datasets: ``raw/flows`` is name
  ``flows`` in ``s3://raw``), never one per file.
- facets: ``outputStatistics`` on outputs and ``inputStatistics`` on the run's own
  inputs (``rowCount`` = records of its ``ok`` objects, ``size`` = bytes, ``fileCount``
  = objects); ``schema`` from the columns notifier read (``details.columns`` and
  ``details.column_types``) of the dataset's newest object in the run; ``jobType``.
- a run without inputs or without outputs (e.g. only raw files arrived) is recorded
  ``skipped`` in the outbox, with that reason, and never sent.

Each run is sent once per event type (fingerprint ``run:<run_key>:<COMPLETE|FAIL>``);
a run that turns from COMPLETE to FAIL is sent again, other later changes are not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

import psycopg
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated.input_statistics_input_dataset import (
    InputStatisticsInputDatasetFacet,
)
from openlineage.client.generated.job_type_job import JobTypeJobFacet
from openlineage.client.generated.output_statistics_output_dataset import (
    OutputStatisticsOutputDatasetFacet,
)
from openlineage.client.generated.schema_dataset import (
    SchemaDatasetFacet,
    SchemaDatasetFacetFields,
)
from openlineage.client.serde import Serde
from openlineage.client.uuid import generate_static_uuid
from psycopg.rows import dict_row

from notifier.config import ExportSettings
from notifier.db import query
from notifier.export.outbox import Message, Target
from notifier.export.sink import Sink

NAME: Final = "openlineage"

JOB_NAME: Final = "pipeline"
"""One job for the pipeline notifier observes; its runs are the runs notifier derived."""


def _producer() -> str:
    try:
        return f"urn:notifier:{version('notifier')}"
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "urn:notifier"


PRODUCER: Final = _producer()
"""The ``producer`` URI of every event and facet (``urn:notifier:<version>``)."""

MAX_RUNS_PER_ROUND: Final = 500
"""Runs one collection turns into events at most; the rest follow in the next round."""

INPUT_PHASES: Final = frozenset({"ingestion"})


@dataclass(frozen=True)
class ObservedDataset:
    """What notifier saw of one dataset in one run (a row of ``lineage_run_datasets``)."""

    own: bool
    phase: str
    dataset: str
    bucket: str
    files: int
    records: int | None
    bytes: int | None
    details: Mapping[str, Any] | None

    @property
    def is_input(self) -> bool:
        return not self.own or self.phase in INPUT_PHASES

    @property
    def name(self) -> str:
        """The dataset's name within ``s3://<bucket>``: ``raw/flows`` -> ``flows``."""
        if self.dataset == self.bucket:
            return "/"
        return self.dataset.removeprefix(f"{self.bucket}/").strip("/") or "/"


def target(settings: ExportSettings) -> Target | None:
    if not settings.openlineage_url:
        return None
    key = settings.openlineage_api_key
    return Target(settings.openlineage_url, {"Authorization": f"Bearer {key}"} if key else {})


def collect(
    conn: psycopg.Connection[Any], settings: ExportSettings, now: datetime
) -> list[Message]:
    """One event per finished run not exported yet (at most MAX_RUNS_PER_ROUND)."""
    cursor = conn.cursor(row_factory=dict_row)
    runs = cursor.execute(query("lineage_runs"), {"limit": MAX_RUNS_PER_ROUND}).fetchall()
    messages = []
    for run in runs:
        rows = cursor.execute(query("lineage_run_datasets"), {"run_key": run["run_key"]})
        datasets = [ObservedDataset(**row) for row in rows.fetchall()]
        messages.append(run_message(run, datasets, settings.openlineage_namespace))
    return messages


def run_message(
    run: Mapping[str, Any], datasets: Sequence[ObservedDataset], namespace: str
) -> Message:
    """The outbox message of one run: its event, or a skipped record saying why."""
    event_type = run["event_type"]
    event = run_event(run, datasets, namespace)
    payload = json.loads(Serde.to_json(event))
    summary = (
        f"{event_type} run {run['run_key']}: {len(payload['inputs'])} input(s), "
        f"{len(payload['outputs'])} output(s)"
    )
    missing = [side for side in ("inputs", "outputs") if not payload[side]]
    skip = f"{summary}; not sent: no {' and no '.join(missing)}" if missing else None
    return Message(
        fingerprint=f"run:{run['run_key']}:{event_type}",
        kind=event_type,
        summary=summary,
        payload=payload,
        skip_reason=skip,
    )


def run_event(
    run: Mapping[str, Any], datasets: Sequence[ObservedDataset], namespace: str
) -> RunEvent:
    """The RunEvent of one run (see the module docstring for its shape)."""
    outputs = [d for d in datasets if not d.is_input]
    output_names = {(d.bucket, d.name) for d in outputs}
    inputs = [d for d in datasets if d.is_input and (d.bucket, d.name) not in output_names]
    started: datetime = run["started_at"]
    return RunEvent(
        eventType=RunState.FAIL if run["event_type"] == "FAIL" else RunState.COMPLETE,
        eventTime=run["ended_at"].astimezone(UTC).isoformat(),
        run=Run(runId=str(run_id(run["run_key"], started))),
        job=Job(
            namespace=namespace,
            name=JOB_NAME,
            facets={
                "jobType": JobTypeJobFacet(
                    processingType="BATCH",
                    integration="NOTIFIER",
                    jobType="PIPELINE",
                    producer=PRODUCER,
                )
            },
        ),
        inputs=_merge_inputs(inputs),
        outputs=[_output(d) for d in outputs],
        producer=PRODUCER,
    )


def run_id(run_key: str, started_at: datetime) -> str:
    """A UUID (v7-shaped) from the run's start and key: the same run, the same id."""
    return str(generate_static_uuid(started_at, run_key.encode()))


def _merge_inputs(inputs: Sequence[ObservedDataset]) -> list[InputDataset]:
    """One entry per dataset: the run's own objects and linked earlier ones together."""
    by_name: dict[tuple[str, str], list[ObservedDataset]] = {}
    for observed in inputs:
        by_name.setdefault((observed.bucket, observed.name), []).append(observed)
    return [_input(group) for group in by_name.values()]


def _input(group: Sequence[ObservedDataset]) -> InputDataset:
    first = group[0]
    own = [d for d in group if d.own]
    facets = _dataset_facets(next((d for d in group if d.details), first))
    input_facets: dict[str, Any] = {}
    if own:
        input_facets["inputStatistics"] = InputStatisticsInputDatasetFacet(
            rowCount=_total(d.records for d in own),
            size=_total(d.bytes for d in own),
            fileCount=sum(d.files for d in own),
            producer=PRODUCER,
        )
    return InputDataset(
        namespace=f"s3://{first.bucket}",
        name=first.name,
        facets=facets,
        inputFacets=input_facets,
    )


def _output(observed: ObservedDataset) -> OutputDataset:
    return OutputDataset(
        namespace=f"s3://{observed.bucket}",
        name=observed.name,
        facets=_dataset_facets(observed),
        outputFacets={
            "outputStatistics": OutputStatisticsOutputDatasetFacet(
                rowCount=observed.records,
                size=observed.bytes,
                fileCount=observed.files,
                producer=PRODUCER,
            )
        },
    )


def _dataset_facets(observed: ObservedDataset) -> dict[str, Any]:
    fields = schema_fields(observed.details)
    if not fields:
        return {}
    return {"schema": SchemaDatasetFacet(fields=fields, producer=PRODUCER)}


def schema_fields(details: Mapping[str, Any] | None) -> list[SchemaDatasetFacetFields]:
    """``details.columns`` (names) with ``details.column_types`` when recorded."""
    columns = (details or {}).get("columns")
    if not isinstance(columns, list):
        return []
    raw_types = (details or {}).get("column_types")
    types = raw_types if isinstance(raw_types, Mapping) else {}
    return [
        SchemaDatasetFacetFields(
            name=column,
            type=str(types[column]) if column in types else None,
            ordinal_position=position,
        )
        for position, column in enumerate(columns, start=1)
        if isinstance(column, str)
    ]


def _total(values: Any) -> int | None:
    known = [int(v) for v in values if v is not None]
    return sum(known) if known else None


SINK: Final = Sink(name=NAME, target=target, collect=collect)
