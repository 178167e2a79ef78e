"""Key-path templates (notifier.inspection.paths): grammar, matching, dates, precedence."""

from __future__ import annotations

import pytest

from notifier.inspection import BytesSource, Inspection, InspectionLimits, Phase, inspect_object
from notifier.inspection.paths import (
    KeyFacts,
    TemplateError,
    apply_key_facts,
    compile_template,
    parse_path_templates,
    read_key,
)

SETTING = (
    "models={modelo_nombre}/{run_id}/{file};"
    "results={modelo_nombre}/{nombre_dataset}/{file};"
    "results=**/{file}"
)


def test_setting_lists_templates_per_bucket_in_order() -> None:
    templates = parse_path_templates(SETTING + "\n*=runs/{run_id}/**")
    assert [t.text for t in templates.for_bucket("results")] == [
        "{modelo_nombre}/{nombre_dataset}/{file}",
        "**/{file}",
        "runs/{run_id}/**",
    ]
    assert [t.text for t in templates.for_bucket("raw")] == ["runs/{run_id}/**"]
    assert templates.buckets == {"models", "results"}


def test_first_matching_template_wins() -> None:
    templates = parse_path_templates(SETTING)
    assert read_key("results", "rf/ids/metrics.json", templates) == KeyFacts(
        {"modelo_nombre": "rf", "nombre_dataset": "ids"},
        {},
        None,
        "{modelo_nombre}/{nombre_dataset}/{file}",
    )
    deeper = read_key("results", "a/b/c/metrics.json", templates)
    assert (deeper.columns, deeper.template) == ({}, "**/{file}")
    assert read_key("models", "rf/model.joblib", templates) == KeyFacts()


@pytest.mark.parametrize(
    ("template", "key", "expected"),
    [
        ("models/{modelo_nombre}/{run_id}/{file}", "models/rf/run-42/model.joblib",
         {"modelo_nombre": "rf", "run_id": "run-42"}),
        ("**/run-{run_id}/{modelo_nombre}.joblib", "x/y/run-7/xgb_v2.joblib",
         {"run_id": "7", "modelo_nombre": "xgb_v2"}),
        ("{stage}/*/{nombre_dataset}_{*}.csv", "bronze/2026/ventas_part-1.csv",
         {"stage": "bronze", "nombre_dataset": "ventas"}),
        ("{modelo_nombre}/**", "rf/a/b/c", {"modelo_nombre": "rf"}),
        ("**/{modelo_nombre}/{file}", "rf/model.pkl", {"modelo_nombre": "rf"}),
        ("exp/{run_id}/{file}", "exp/a.b/c d+e.txt", {"run_id": "a.b"}),
    ],
)  # fmt: skip
def test_template_matching(template: str, key: str, expected: dict[str, str]) -> None:
    assert compile_template(template).match(key) == expected


@pytest.mark.parametrize(
    ("template", "key"),
    [
        ("{modelo_nombre}/{run_id}/{file}", "rf/model.joblib"),
        ("{modelo_nombre}/{run_id}/{file}", "rf/run/x/model.joblib"),
        ("models/{modelo_nombre}/{file}", "other/rf/model.joblib"),
        ("{modelo_nombre}.joblib", "rf.pkl"),
    ],
)
def test_template_mismatch(template: str, key: str) -> None:
    assert compile_template(template).match(key) is None


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("models", "'models' is not bucket=template"),
        ("=x/{file}", "is not bucket=template"),
        ("models=", "is not bucket=template"),
        ("models=/a/{file}", "must not start or end with '/'"),
        ("models=a//{file}", "empty segment"),
        ("models={file}/x", "{file} belongs in the last segment"),
        ("models={Model}/x", "{Model} is not a placeholder name"),
        ("models={}/x", "{} is not a placeholder name"),
        ("models={run_id}/{run_id}", "placeholder {run_id} appears twice"),
        ("models={run_id/x", "unbalanced brace"),
        ("models=a**/x", "'**' must be a whole segment"),
        ("models=**/a/**/b/**", "more than 2 '**' segments"),
    ],
)
def test_malformed_settings_say_what_is_wrong(setting: str, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        parse_path_templates(setting)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("key", "date"),
    [
        ("batch/2026-11-29/ventas.csv", "2026-11-29"),
        ("exports/ventas_20261129.csv", "2026-11-29"),
        ("year=2026/month=11/day=29/part-0.parquet", "2026-11-29"),
        ("year=2026/month=11/part-0.parquet", "2026-11"),
        ("dt=2026-11-29/part-0.parquet", "2026-11-29"),
        ("raw/2026/11/29/file.csv", "2026-11-29"),
        ("ids/12345678/file.csv", None),  # not a date: year 1234
        ("batch/2026-02-30/x.csv", None),  # not a calendar date
        ("run-20261129123/x.csv", None),  # digits run on
        ("plain/file.csv", None),
    ],
)
def test_dates_in_keys(key: str, date: str | None) -> None:
    assert read_key("raw", key).partition_date == date


def test_hive_segments_become_fields_and_fill_columns() -> None:
    facts = read_key("raw", "region=eu/run_id=r-9/dt=2026-11-29/a=b.csv")
    assert facts.columns == {"run_id": "r-9"}
    assert facts.path_fields == {"region": "eu", "dt": "2026-11-29"}
    assert facts.partition_date == "2026-11-29"


def test_content_and_metadata_win_over_the_key() -> None:
    verdict = Inspection.ok(
        "json", 1, {"modelo_nombre": "from-doc", "sources": {"modelo_nombre": "content"}}
    )
    facts = KeyFacts(
        {"modelo_nombre": "rf", "run_id": "run-42"}, {"stage": "eval"}, "2026-11-29", "t"
    )
    merged = apply_key_facts(verdict, facts)
    assert merged.details == {
        "modelo_nombre": "from-doc",
        "run_id": "run-42",
        "sources": {"modelo_nombre": "content", "run_id": "path"},
        "path_fields": {"stage": "eval"},
        "partition_date": "2026-11-29",
        "path_template": "t",
    }


def test_every_phase_gets_the_key_facts_even_when_skipped() -> None:
    templates = parse_path_templates("models={modelo_nombre}/{run_id}/{file}")
    source = BytesSource(b"\x00\x01", "rf/run-42/model.bin", bucket="models")
    verdict = inspect_object(Phase.TRAINING, source, InspectionLimits(), templates)
    assert verdict.details["modelo_nombre"] == "rf"
    assert verdict.details["run_id"] == "run-42"
    assert verdict.details["sources"]["run_id"] == "path"
    raw = BytesSource(b"x.png", "2026-11-29/photo.png", bucket="raw")
    skipped = inspect_object(Phase.INGESTION, raw, InspectionLimits(), templates)
    assert skipped.estado == "skipped"
    assert skipped.details == {"partition_date": "2026-11-29"}


def test_results_names_come_from_fields_then_metadata_then_path() -> None:
    templates = parse_path_templates("results={modelo_nombre}/{nombre_dataset}/{run_id}/{file}")
    source = BytesSource(
        b'{"model": "doc-model", "accuracy": 0.9}',
        "path-model/path-dataset/run-1/metrics.json",
        bucket="results",
        user_metadata={"dataset": "meta-dataset"},
    )
    verdict = inspect_object(Phase.EVALUATION, source, InspectionLimits(), templates)
    assert (
        verdict.details["modelo_nombre"],
        verdict.details["nombre_dataset"],
        verdict.details["run_id"],
    ) == ("doc-model", "meta-dataset", "run-1")
    assert verdict.details["sources"] == {
        "modelo_nombre": "content",
        "nombre_dataset": "metadata",
        "run_id": "path",
    }


def test_an_inspectors_own_sources_shape_is_left_alone() -> None:
    verdict = Inspection.ok("model", None, {"sources": ["metadata", "sidecar"]})
    merged = apply_key_facts(verdict, KeyFacts({"run_id": "r1"}, {}, None, "t"))
    assert merged.details == {
        "sources": ["metadata", "sidecar"],
        "run_id": "r1",
        "path_template": "t",
    }
