"""Settings, read once from the environment into one typed, frozen object.

Every variable is named ``NOTIFIER_*``; the names are a contract with users and with
the Kubernetes manifests, so ``ENVIRONMENT`` below lists each one with its meaning.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from notifier.errors import ConfigError
from notifier.phases import Phase

DEFAULT_BUCKET_MAP: Final = "raw=ingestion,silver=transformation,models=training,results=evaluation"


@dataclass(frozen=True)
class Variable:
    """One environment variable notifier reads."""

    name: str
    required: bool
    help: str
    secret: bool = False


ENVIRONMENT: Final[tuple[Variable, ...]] = (
    Variable("NOTIFIER_DATABASE_URL", True, "libpq URL of the audit database.", secret=True),
    Variable("NOTIFIER_S3_ENDPOINT", True, "S3 endpoint URL; the scheme (http/https) decides TLS."),
    Variable("NOTIFIER_S3_ACCESS_KEY", True, "S3 access key (read-only access is enough).", True),
    Variable("NOTIFIER_S3_SECRET_KEY", True, "S3 secret key.", secret=True),
    Variable("NOTIFIER_S3_REGION", False, "S3 region, when the store wants one."),
    Variable(
        "NOTIFIER_AUTH_TOKEN",
        True,
        "Token the store sends as 'Authorization: Bearer <token>' (MinIO's auth_token).",
        secret=True,
    ),
    Variable(
        "NOTIFIER_AUTH_DISABLED",
        False,
        "Set to 'true' to accept unauthenticated webhooks (local experiments only).",
    ),
    Variable(
        "NOTIFIER_BUCKET_MAP",
        False,
        "bucket=phase pairs, comma-separated; phases: ingestion, transformation, training, "
        f"evaluation. Default: {DEFAULT_BUCKET_MAP}.",
    ),
    Variable(
        "NOTIFIER_MAX_SCAN_BYTES",
        False,
        "Text objects (CSV, JSON) larger than this are recorded as skipped, not scanned.",
    ),
    Variable(
        "NOTIFIER_INSPECT_TIMEOUT_SECONDS",
        False,
        "Wall-clock budget for inspecting one object.",
    ),
    Variable("NOTIFIER_MAX_BODY_BYTES", False, "Largest webhook body accepted (else 413)."),
    Variable("NOTIFIER_WORKER_THREADS", False, "Processing threads per worker process."),
    Variable("NOTIFIER_MAX_ATTEMPTS", False, "Tries for a transient failure before giving up."),
    Variable("NOTIFIER_DB_POOL_SIZE", False, "PostgreSQL connections per process."),
    Variable("NOTIFIER_LOG_LEVEL", False, "DEBUG, INFO, WARNING or ERROR."),
    # Processing throughput and leases (issue 12 / 13 item 4).
    Variable(
        "NOTIFIER_LEASE_SECONDS",
        False,
        "How long a claimed event stays with its worker unless renewed; a live worker renews "
        "it every third of this, so a dead worker's events are taken again after it.",
    ),
    Variable("NOTIFIER_WORKER_PROCESSES", False, "Worker processes run by 'notifier worker'."),
    Variable("NOTIFIER_WORKER_BATCH_SIZE", False, "Events one worker thread claims at once."),
    Variable(
        "NOTIFIER_SNS_CONFIRM_TOPICS",
        False,
        "SNS topic ARNs (comma-separated) whose subscription confirmations notifier follows.",
    ),
)

ENVIRONMENT_NAMES: Final = frozenset(v.name for v in ENVIRONMENT)

DEFAULT_MAX_SCAN_BYTES: Final = 10 * 1024**3
"""Text formats are scanned end to end; past 10 GiB a scan costs minutes of a worker."""

DEFAULT_INSPECT_TIMEOUT_SECONDS: Final = 600.0
"""A 1 GiB CSV counts in seconds; ten minutes leaves room for a slow store."""

DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024
"""One MinIO event is a few KiB; a MiB leaves room for batches and big metadata."""

DEFAULT_WORKER_THREADS: Final = 2
DEFAULT_MAX_ATTEMPTS: Final = 8
DEFAULT_DB_POOL_SIZE: Final = 4
# Processing throughput and leases (issue 12 / 13 item 4).
DEFAULT_LEASE_SECONDS: Final = 60.0
"""Renewed every 20 s while the work goes on: an event held by a dead worker, or by a worker
cut off from the database, is taken again within about a minute."""
DEFAULT_WORKER_PROCESSES: Final = 1
"""One process per core pays when inspection is CPU-bound (many small objects)."""
DEFAULT_WORKER_BATCH_SIZE: Final = 32
"""Events claimed in one statement and recorded in one transaction; small enough that a
batch of small objects commits within a fraction of a second."""


@dataclass(frozen=True)
class S3Settings:
    endpoint: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    region: str | None = None

    @property
    def secure(self) -> bool:
        return urlsplit(self.endpoint).scheme == "https"

    @property
    def host(self) -> str:
        """``host:port`` as the minio SDK wants it."""
        return urlsplit(self.endpoint).netloc


@dataclass(frozen=True)
class Settings:
    database_url: str = field(repr=False)
    s3: S3Settings
    auth_token: str | None = field(repr=False)
    bucket_phases: Mapping[str, Phase]
    max_scan_bytes: int = DEFAULT_MAX_SCAN_BYTES
    inspect_timeout_seconds: float = DEFAULT_INSPECT_TIMEOUT_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    worker_threads: int = DEFAULT_WORKER_THREADS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    log_level: str = "INFO"
    sns_confirm_topics: frozenset[str] = frozenset()
    # Processing throughput and leases (issue 12 / 13 item 4).
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    """How long a claimed event stays with its worker unless renewed (seconds)."""
    worker_processes: int = DEFAULT_WORKER_PROCESSES
    worker_batch_size: int = DEFAULT_WORKER_BATCH_SIZE

    @property
    def lease_renew_seconds(self) -> float:
        """How often a worker renews the leases it holds: three renewals per lease."""
        return self.lease_seconds / 3

    def phase_of(self, bucket: str) -> Phase | None:
        return self.bucket_phases.get(bucket)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting once; a missing or malformed one raises ConfigError naming it."""
        env = os.environ if environ is None else environ
        auth_disabled = _parse_bool(env, "NOTIFIER_AUTH_DISABLED", default=False)
        token = env.get("NOTIFIER_AUTH_TOKEN") or None
        if token is None and not auth_disabled:
            raise ConfigError(
                "NOTIFIER_AUTH_TOKEN is not set: set it to the webhook's auth_token, or set "
                "NOTIFIER_AUTH_DISABLED=true to accept unauthenticated events"
            )
        if token is not None and len(token.split()) != 1:
            raise ConfigError("NOTIFIER_AUTH_TOKEN must be a single word (no spaces)")
        return cls(
            database_url=_required(env, "NOTIFIER_DATABASE_URL"),
            s3=S3Settings(
                endpoint=_parse_endpoint(env),
                access_key=_required(env, "NOTIFIER_S3_ACCESS_KEY"),
                secret_key=_required(env, "NOTIFIER_S3_SECRET_KEY"),
                region=env.get("NOTIFIER_S3_REGION") or None,
            ),
            auth_token=None if auth_disabled else token,
            bucket_phases=parse_bucket_map(env.get("NOTIFIER_BUCKET_MAP") or DEFAULT_BUCKET_MAP),
            max_scan_bytes=_parse_int(env, "NOTIFIER_MAX_SCAN_BYTES", DEFAULT_MAX_SCAN_BYTES),
            inspect_timeout_seconds=_parse_float(
                env, "NOTIFIER_INSPECT_TIMEOUT_SECONDS", DEFAULT_INSPECT_TIMEOUT_SECONDS
            ),
            max_body_bytes=_parse_int(env, "NOTIFIER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
            worker_threads=_parse_int(env, "NOTIFIER_WORKER_THREADS", DEFAULT_WORKER_THREADS),
            max_attempts=_parse_int(env, "NOTIFIER_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS),
            db_pool_size=_parse_int(env, "NOTIFIER_DB_POOL_SIZE", DEFAULT_DB_POOL_SIZE),
            log_level=_parse_log_level(env),
            sns_confirm_topics=frozenset(
                t.strip()
                for t in env.get("NOTIFIER_SNS_CONFIRM_TOPICS", "").split(",")
                if t.strip()
            ),
            # Processing throughput and leases (issue 12 / 13 item 4).
            lease_seconds=_parse_float(env, "NOTIFIER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS),
            worker_processes=_parse_int(env, "NOTIFIER_WORKER_PROCESSES", DEFAULT_WORKER_PROCESSES),
            worker_batch_size=_parse_int(
                env, "NOTIFIER_WORKER_BATCH_SIZE", DEFAULT_WORKER_BATCH_SIZE
            ),
        )


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Only the database URL, for commands that need nothing else (``db upgrade``)."""
    return _required(os.environ if environ is None else environ, "NOTIFIER_DATABASE_URL")


def parse_bucket_map(text: str) -> dict[str, Phase]:
    """``"raw=ingestion,mlops-raw=ingestion"`` -> {"raw": Phase.INGESTION, ...}.

    A phase may be named by its short name or its table name (``ingestion_events``).
    """
    mapping: dict[str, Phase] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        bucket, sep, phase_name = (s.strip() for s in pair.partition("="))
        if not sep or not bucket or not phase_name:
            raise ConfigError(f"NOTIFIER_BUCKET_MAP: {pair!r} is not bucket=phase")
        phase = Phase.parse(phase_name)
        if phase is None:
            known = ", ".join(p.short_name for p in Phase)
            raise ConfigError(f"NOTIFIER_BUCKET_MAP: unknown phase {phase_name!r} (one of {known})")
        if bucket in mapping:
            raise ConfigError(f"NOTIFIER_BUCKET_MAP: bucket {bucket!r} is mapped twice")
        mapping[bucket] = phase
    if not mapping:
        raise ConfigError("NOTIFIER_BUCKET_MAP maps no bucket")
    return mapping


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _parse_endpoint(env: Mapping[str, str]) -> str:
    endpoint = _required(env, "NOTIFIER_S3_ENDPOINT").rstrip("/")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
        raise ConfigError(
            f"NOTIFIER_S3_ENDPOINT must look like http://host:port or https://host, "
            f"got {endpoint!r}"
        )
    return endpoint


def _parse_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _parse_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be positive, got {raw}")
    return value


def _parse_bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _parse_log_level(env: Mapping[str, str]) -> str:
    level = env.get("NOTIFIER_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(
            f"NOTIFIER_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}"
        )
    return level
