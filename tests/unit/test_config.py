import pytest

from notifier.config import DEFAULT_MAX_SCAN_BYTES, ENVIRONMENT_NAMES, Settings, parse_bucket_map
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
