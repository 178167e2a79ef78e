from pathlib import Path

import pytest

from notifier.config import (
    DEFAULT_MAX_SCAN_BYTES,
    ENVIRONMENT_NAMES,
    CsvDialectRule,
    Settings,
    parse_bucket_map,
    parse_csv_dialects,
)
from notifier.errors import ConfigError
from notifier.phases import Phase

BASE = {
    "NOTIFIER_DATABASE_URL": "postgresql://u@db/mlops_db",
    "NOTIFIER_S3_ENDPOINT": "https://minio.mlops.svc:9000",
    "NOTIFIER_S3_ACCESS_KEY": "ak",
    "NOTIFIER_S3_SECRET_KEY": "sk",
    "NOTIFIER_AUTH_TOKEN": "tok",
}


def test_defaults_map_the_four_seed_buckets():
    settings = Settings.from_env(BASE)
    assert dict(settings.bucket_phases) == {
        "raw": Phase.INGESTION,
        "silver": Phase.TRANSFORMATION,
        "models": Phase.TRAINING,
        "results": Phase.EVALUATION,
    }
    assert settings.max_scan_bytes == DEFAULT_MAX_SCAN_BYTES
    assert settings.s3.secure is True
    assert settings.s3.host == "minio.mlops.svc:9000"


def test_http_endpoint_is_not_tls():
    settings = Settings.from_env({**BASE, "NOTIFIER_S3_ENDPOINT": "http://127.0.0.1:8333/"})
    assert settings.s3.secure is False
    assert settings.s3.endpoint == "http://127.0.0.1:8333"


@pytest.mark.parametrize("name", sorted(k for k in BASE if k != "NOTIFIER_AUTH_TOKEN"))
def test_missing_required_variable_is_named(name):
    env = {k: v for k, v in BASE.items() if k != name}
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(env)


def test_token_required_unless_explicitly_disabled():
    env = {k: v for k, v in BASE.items() if k != "NOTIFIER_AUTH_TOKEN"}
    with pytest.raises(ConfigError, match="NOTIFIER_AUTH_TOKEN"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "NOTIFIER_AUTH_DISABLED": "true"}).auth_token is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NOTIFIER_MAX_SCAN_BYTES", "ten"),
        ("NOTIFIER_MAX_SCAN_BYTES", "-1"),
        ("NOTIFIER_INSPECT_TIMEOUT_SECONDS", "soon"),
        ("NOTIFIER_AUTH_DISABLED", "maybe"),
        ("NOTIFIER_S3_ENDPOINT", "minio:9000"),
        ("NOTIFIER_S3_ENDPOINT", "ftp://minio:9000"),
        ("NOTIFIER_LOG_LEVEL", "LOUD"),
        ("NOTIFIER_BUCKET_MAP", "raw=ingestion,raw=training"),
        ("NOTIFIER_BUCKET_MAP", "raw=cooking"),
        ("NOTIFIER_BUCKET_MAP", "raw"),
        ("NOTIFIER_AUTH_TOKEN", "two words"),
    ],
)
def test_malformed_value_is_named(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**BASE, name: value})


def test_bucket_map_accepts_short_and_table_names():
    assert parse_bucket_map("mlops-raw=ingestion, mlops-models = training_events") == {
        "mlops-raw": Phase.INGESTION,
        "mlops-models": Phase.TRAINING,
    }


def test_secrets_stay_out_of_repr():
    text = repr(Settings.from_env({**BASE, "NOTIFIER_S3_SECRET_KEY": "s3cr3t-value"}))
    assert "s3cr3t-value" not in text
    assert "tok" not in text.replace("token", "")
    assert "postgresql://" not in text


def test_every_read_variable_is_declared():
    assert set(BASE) <= ENVIRONMENT_NAMES


def test_leases_are_short_and_renewed_three_times_per_lease():
    settings = Settings.from_env(BASE)
    assert settings.lease_seconds == 60.0
    assert settings.lease_renew_seconds == 20.0
    tuned = Settings.from_env(
        {
            **BASE,
            "NOTIFIER_LEASE_SECONDS": "9",
            "NOTIFIER_WORKER_PROCESSES": "3",
            "NOTIFIER_WORKER_BATCH_SIZE": "8",
        }
    )
    assert (tuned.lease_seconds, tuned.lease_renew_seconds) == (9.0, 3.0)
    assert (tuned.worker_processes, tuned.worker_batch_size) == (3, 8)
    with pytest.raises(ConfigError, match="NOTIFIER_LEASE_SECONDS"):
        Settings.from_env({**BASE, "NOTIFIER_LEASE_SECONDS": "0"})


def test_heartbeat_file_and_retention_are_optional_and_checked():
    base = BASE
    plain = Settings.from_env(base)
    assert (plain.worker_heartbeat_file, plain.event_retention_days) == (None, None)
    set_ = Settings.from_env(
        base
        | {
            "NOTIFIER_WORKER_HEARTBEAT_FILE": "/tmp/beat",
            "NOTIFIER_EVENT_RETENTION_DAYS": "30",
        }
    )
    assert (str(set_.worker_heartbeat_file), set_.event_retention_days) == ("/tmp/beat", 30)
    with pytest.raises(ConfigError, match="NOTIFIER_WORKER_HEARTBEAT_FILE"):
        Settings.from_env(base | {"NOTIFIER_WORKER_HEARTBEAT_FILE": "beat"})
    with pytest.raises(ConfigError, match="NOTIFIER_EVENT_RETENTION_DAYS"):
        Settings.from_env(base | {"NOTIFIER_EVENT_RETENTION_DAYS": "30d"})


def test_ignore_patterns_are_a_comma_separated_list():
    assert Settings.from_env(BASE).ignore_patterns == ()
    env = {**BASE, "NOTIFIER_IGNORE_PATTERNS": " *.tmp, _staging/* ,,"}
    assert Settings.from_env(env).ignore_patterns == ("*.tmp", "_staging/*")
    assert "NOTIFIER_IGNORE_PATTERNS" in ENVIRONMENT_NAMES


def test_every_problem_is_reported_at_once():
    env = {
        "NOTIFIER_S3_ENDPOINT": "minio:9000",
        "NOTIFIER_MAX_SCAN_BYTES": "ten",
        "NOTIFIER_LOG_LEVEL": "LOUD",
    }
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    message = str(raised.value)
    for name in (
        "NOTIFIER_DATABASE_URL",
        "NOTIFIER_S3_ENDPOINT",
        "NOTIFIER_S3_ACCESS_KEY",
        "NOTIFIER_S3_SECRET_KEY",
        "NOTIFIER_AUTH_TOKEN",
        "NOTIFIER_MAX_SCAN_BYTES",
        "NOTIFIER_LOG_LEVEL",
    ):
        assert name in message
    assert message.startswith("7 settings are missing or malformed:")


def test_commands_that_receive_no_webhook_do_not_need_the_token():
    env = {k: v for k, v in BASE.items() if k != "NOTIFIER_AUTH_TOKEN"}
    assert Settings.from_env(env, receives_webhooks=False).auth_token is None
    with pytest.raises(ConfigError, match="NOTIFIER_AUTH_TOKEN"):
        Settings.from_env(env)
    # A malformed token is still named, whoever reads it.
    with pytest.raises(ConfigError, match="NOTIFIER_AUTH_TOKEN"):
        Settings.from_env({**env, "NOTIFIER_AUTH_TOKEN": "a b"}, receives_webhooks=False)


@pytest.mark.parametrize(("value", "expected"), [("", "text"), ("JSON", "json"), ("text", "text")])
def test_log_format(value, expected):
    assert Settings.from_env({**BASE, "NOTIFIER_LOG_FORMAT": value}).log_format == expected


def test_unknown_log_format_is_named():
    with pytest.raises(ConfigError, match="NOTIFIER_LOG_FORMAT"):
        Settings.from_env({**BASE, "NOTIFIER_LOG_FORMAT": "xml"})


def test_path_templates_are_parsed_per_bucket():
    settings = Settings.from_env(
        {
            **BASE,
            "NOTIFIER_PATH_TEMPLATES": "models={modelo_nombre}/{run_id}/{file}; "
            "results={modelo_nombre}/{nombre_dataset}/{file};results=**/{file}",
        }
    )
    assert [t.text for t in settings.path_templates.for_bucket("results")] == [
        "{modelo_nombre}/{nombre_dataset}/{file}",
        "**/{file}",
    ]
    assert settings.path_templates.for_bucket("raw") == ()
    assert Settings.from_env(BASE).path_templates.by_bucket == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("models", "NOTIFIER_PATH_TEMPLATES: 'models' is not bucket=template"),
        (
            "models={Model}/{file}",
            "NOTIFIER_PATH_TEMPLATES: bucket 'models': template '{Model}/{file}': "
            "{Model} is not a placeholder name",
        ),
        ("scratch={run_id}/{file}", "bucket 'scratch' is not in NOTIFIER_BUCKET_MAP"),
    ],
)
def test_malformed_path_templates_are_named(value, message):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({**BASE, "NOTIFIER_PATH_TEMPLATES": value})
    assert message in str(raised.value)


def test_csv_dialects_default_to_none_and_parse_per_bucket_and_prefix():
    assert Settings.from_env(BASE).csv_dialects == ()
    text = (
        "raw/unsw/=header:absent ; silver/eu/=delimiter:semicolon,encoding:CP1252;"
        "raw/t/d=1/=delimiter:tab"
    )
    settings = Settings.from_env({**BASE, "NOTIFIER_CSV_DIALECTS": text})
    assert settings.csv_dialects == (
        CsvDialectRule("raw", "unsw/", header=False),
        CsvDialectRule("silver", "eu/", delimiter=";", encoding="cp1252"),
        CsvDialectRule("raw", "t/d=1/", delimiter="\t"),
    )
    assert parse_csv_dialects("raw=header:present,delimiter:pipe") == (
        CsvDialectRule("raw", "", delimiter="|", header=True),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("raw", "'raw' is not bucket"),
        ("=header:absent", "is not bucket"),
        ("raw=", "is not bucket"),
        ("raw=header:maybe", "'header:maybe' is not one of"),
        ("raw=delimiter:,", "'delimiter:' is not one of"),
        ("raw=encoding:klingon", "'encoding:klingon' is not one of"),
        ("raw=encoding:base64", "'encoding:base64' is not one of"),
        ("raw=header:absent,header:present", "option 'header' given twice"),
        ("raw/a/=header:absent;raw/a/=delimiter:tab", "'raw/a/' has two rules"),
    ],
)
def test_bad_csv_dialects_name_the_variable_and_the_part(text, message):
    with pytest.raises(ConfigError, match="NOTIFIER_CSV_DIALECTS") as raised:
        Settings.from_env({**BASE, "NOTIFIER_CSV_DIALECTS": text})
    assert message in str(raised.value)


def test_every_variable_has_a_row_in_the_readme_configuration_table():
    readme = Path(__file__).resolve().parents[2] / "README.md"
    rows = [line for line in readme.read_text(encoding="utf-8").splitlines() if line[:1] == "|"]
    missing = [n for n in sorted(ENVIRONMENT_NAMES) if not any(f"`{n}`" in r for r in rows)]
    assert missing == []
