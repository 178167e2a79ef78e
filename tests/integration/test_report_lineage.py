"""`notifier report lineage` lists models, not the rows of their sidecars."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from notifier.cli import main
from tests.integration.test_analysis import Pipeline, _json


@pytest.fixture
def cli(database_url):
    def run(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), env={"NOTIFIER_DATABASE_URL": database_url})

    return run


def test_a_sidecar_is_not_listed_as_a_model_of_its_own(
    client, auth, s3_client, buckets, processor, cli
):
    pipeline = Pipeline(client, auth, s3_client, processor)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    metadata = {"x-amz-meta-model_name": "rf"}
    model = pipeline.put(
        buckets.models, "rf/v3/model.joblib", pickle.dumps({"n": 1}), start, metadata
    )
    card = json.dumps({"model_name": "rf", "params": {"max_depth": 3}}).encode()
    pipeline.put(buckets.models, "rf/v3/model.json", card, start + timedelta(minutes=1))
    listed = [m["ruta_modelo"] for m in _json(cli("report", "lineage", "rf", "--json"))]
    assert listed == [model]
    assert cli("report", "lineage", f"s3://{buckets.models}/rf/v3/model.json").exit_code == 1
