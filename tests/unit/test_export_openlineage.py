"""OpenLineage run events: shape, names, facets, and validity against the spec's schema."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from openlineage.client.serde import Serde

from notifier.export.openlineage import ObservedDataset, run_event, run_id, run_message
from tests.openlineage_schema import errors

START = datetime(2026, 11, 25, 14, 46, tzinfo=UTC)
END = datetime(2026, 11, 25, 15, 16, tzinfo=UTC)


def run(status="complete", event_type="COMPLETE", key="session:ingestion:7"):
    return {
        "run_key": key,
        "status": status,
        "reason": None,
        "started_at": START,
        "ended_at": END,
        "phases": ["ingestion", "transformation"],
        "event_type": event_type,
    }


def observed(phase, dataset, bucket, *, own=True, files=1, records=10, size=100, details=None):
    return ObservedDataset(own, phase, dataset, bucket, files, records, size, details)


RAW = observed(
    "ingestion",
    "raw/flows",
    "raw",
    files=2,
    records=2000,
    size=4096,
    details={"columns": ["flow_id", "bytes"]},
)
SILVER = observed(
    "transformation",
    "silver/flows",
    "silver",
    files=3,
    records=1960,
    size=9000,
    details={"columns": ["flow_id", "bytes"], "column_types": {"flow_id": "int64"}},
)
MODEL = observed("training", "models/rf", "models", records=None, size=160)
EARLIER_SILVER = observed("transformation", "silver/flows_v1", "silver", own=False)


def payload(event) -> dict:
    return json.loads(Serde.to_json(event))


def test_complete_run_has_raw_inputs_and_derived_outputs():
    event = payload(run_event(run(), [RAW, SILVER, MODEL], "mlops"))
    assert errors(event) == []
    assert event["eventType"] == "COMPLETE"
    assert event["eventTime"] == END.isoformat()
    assert event["job"]["namespace"] == "mlops"
    assert event["job"]["name"] == "pipeline"
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [("s3://raw", "flows")]
    assert [(d["namespace"], d["name"]) for d in event["outputs"]] == [
        ("s3://silver", "flows"),
        ("s3://models", "rf"),
    ]
    stats = event["outputs"][0]["outputFacets"]["outputStatistics"]
    assert (stats["rowCount"], stats["size"], stats["fileCount"]) == (1960, 9000, 3)
    fields = event["outputs"][0]["facets"]["schema"]["fields"]
    assert fields == [
        {"name": "flow_id", "type": "int64", "ordinal_position": 1, "fields": []},
        {"name": "bytes", "ordinal_position": 2, "fields": []},
    ]
    assert event["inputs"][0]["inputFacets"]["inputStatistics"]["rowCount"] == 2000
    # A model has no record count and no columns: statistics without rowCount, no schema.
    model = event["outputs"][1]
    assert "rowCount" not in model["outputFacets"]["outputStatistics"]
    assert "schema" not in model["facets"]


def test_failed_run_is_a_fail_event():
    event = payload(run_event(run("failed", "FAIL"), [RAW, SILVER], "notifier"))
    assert errors(event) == []
    assert event["eventType"] == "FAIL"


def test_linked_datasets_of_earlier_runs_are_inputs_without_statistics():
    event = payload(run_event(run(), [MODEL, EARLIER_SILVER], "notifier"))
    assert errors(event) == []
    (source,) = event["inputs"]
    assert (source["namespace"], source["name"]) == ("s3://silver", "flows_v1")
    assert source["inputFacets"] == {}


def test_a_dataset_the_run_writes_is_never_also_its_input():
    linked_raw = observed("ingestion", "silver/flows", "silver", own=False)
    event = payload(run_event(run(), [RAW, SILVER, linked_raw], "notifier"))
    assert [d["name"] for d in event["inputs"]] == ["flows"]
    assert [d["namespace"] for d in event["inputs"]] == ["s3://raw"]


def test_run_id_is_a_stable_uuid():
    first = run_id("session:ingestion:7", START)
    assert first == run_id("session:ingestion:7", START)
    assert first != run_id("session:ingestion:8", START)
    assert uuid.UUID(first).version == 7


def test_run_without_outputs_is_recorded_skipped():
    message = run_message(run("incomplete"), [RAW], "notifier")
    assert message.fingerprint == "run:session:ingestion:7:COMPLETE"
    assert message.skip_reason is not None
    assert "no outputs" in message.skip_reason
    complete = run_message(run(), [RAW, SILVER], "notifier")
    assert complete.skip_reason is None
    assert errors(dict(complete.payload)) == []


def test_bucket_level_dataset_is_named_root():
    whole = observed("training", "models", "models")
    event = payload(run_event(run(), [RAW, whole], "notifier"))
    assert event["outputs"][0]["name"] == "/"
    assert errors(event) == []
