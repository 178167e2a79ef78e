"""Dataset identity: keys with dates, runs, UUIDs, hashes and parts abstracted."""

from __future__ import annotations

import pytest

from notifier.analysis.datasets import dataset_name, identify, key_pattern


@pytest.mark.parametrize(
    ("key", "pattern", "dataset"),
    [
        ("flows/2026-11-29/part-00001.csv", "flows/{date}/part-{n}.csv", "raw/flows"),
        ("flows/20261129/part_1.csv", "flows/{date}/part_{n}.csv", "raw/flows"),
        (
            "flows/year=2026/month=11/day=29/data.parquet",
            "flows/year={n}/month={n}/day={n}/data.parquet",
            "raw/flows/data",
        ),
        ("flows/dt=2026-11-29/flows.csv", "flows/dt={date}/flows.csv", "raw/flows"),
        ("run-42/flows_20261129.csv", "run-{n}/flows_{date}.csv", "raw/flows"),
        ("sales_2026-11-29T10:00:00Z.jsonl", "sales_{date}.jsonl", "raw/sales"),
        (
            "flows/part-00000-3f2a1b4c-1234-4abc-9def-0123456789ab-c000.snappy.parquet",
            "flows/part-{n}-{uuid}-c{n}.snappy.parquet",
            "raw/flows",
        ),
        ("flows/a1b2c3d4e5/x.csv", "flows/{hash}/x.csv", "raw/flows/x"),
        ("flows/2026-11-29/flows.csv.gz", "flows/{date}/flows.csv.gz", "raw/flows"),
        ("customers/2026-11-29/customers.csv", "customers/{date}/customers.csv", "raw/customers"),
        ("2026-11-29.csv", "{date}.csv", "raw"),
        ("rf/v3/model.joblib", "rf/v{n}/model.joblib", "raw/rf/model"),
        ("deadbeef/flows.csv", "deadbeef/flows.csv", "raw/deadbeef/flows"),
    ],
)
def test_keys_of_one_dataset_share_an_identity(key, pattern, dataset):
    identity = identify("raw", key)
    assert identity.key_pattern == pattern
    assert identity.dataset == dataset


def test_different_files_of_one_day_are_different_datasets():
    a = identify("raw", "2026-11-29/customers.csv").dataset
    b = identify("raw", "2026-11-29/orders.csv").dataset
    assert (a, b) == ("raw/customers", "raw/orders")


def test_a_known_run_id_is_abstracted_whatever_it_looks_like():
    identity = identify("raw", "nightly-blue-fox/flows.csv", run_id="nightly-blue-fox")
    assert identity == identify("raw", "nightly-red-owl/flows.csv", run_id="nightly-red-owl")
    assert identity.key_pattern == "{run}/flows.csv"
    assert identity.dataset == "raw/flows"


def test_a_declared_name_wins_over_the_key():
    assert identify("silver", "x/2026-11-29/p.csv", declared_name="flows").dataset == "silver/flows"
    assert identify("silver", "x/p.csv", declared_name="  ").dataset == "silver/x/p"


def test_the_same_key_on_another_day_is_the_same_dataset():
    days = {identify("raw", f"flows/2026-11-{d:02d}/part-0000{d % 3}.csv") for d in range(1, 29)}
    assert {i.dataset for i in days} == {"raw/flows"}


def test_dataset_name_of_a_pattern():
    assert dataset_name("{date}/{uuid}.parquet") == ""
    assert dataset_name("daily_sales_{date}.csv") == "daily_sales"
    assert key_pattern("") == ""
