"""Settings, read once from the environment into one typed, frozen object.

Every variable is named ``NOTIFIER_*``; the names are a contract with users and with
the Kubernetes manifests, so ``ENVIRONMENT`` below lists each one with its meaning.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import urlsplit

from notifier.errors import ConfigError
from notifier.phases import Phase

T = TypeVar("T")

if TYPE_CHECKING:
    from notifier.inspection.paths import PathTemplates

DEFAULT_BUCKET_MAP: Final = "raw=ingestion,silver=transformation,models=training,results=evaluation"


@dataclass(frozen=True)
class Variable:
    """One environment variable notifier reads."""

    name: str
    required: bool
    help: str
    secret: bool = False


# --- analysis (runs, lineage, anomalies): settings read by workers, `analyze`, `report` ---

DEFAULT_ANOMALY_Z_THRESHOLD: Final = 3.5
"""|modified z-score| above which a row count is anomalous (Iglewicz & Hoaglin's 3.5)."""
DEFAULT_ANOMALY_WINDOW_DAYS: Final = 14
"""Trailing history a verdict is trained on (Elementary's default training period)."""
DEFAULT_ANOMALY_MIN_HISTORY: Final = 5
"""Points of history a dataset needs before any row-count verdict."""
DEFAULT_ANOMALY_MIN_CHANGE: Final = 0.02
"""Relative change from the median below which no row count is flagged (stable datasets)."""
DEFAULT_ANOMALY_METRIC_TOLERANCE: Final = 0.05
"""Metric regression allowed: absolute for metrics in [0, 1], else relative to the previous."""
DEFAULT_ANOMALY_FRESHNESS_FACTOR: Final = 1.5
"""A dataset is late once silent for this many times its usual (median) cadence."""
DEFAULT_ANOMALY_FRESHNESS_MIN_HISTORY: Final = 3
"""Arrival intervals a dataset needs before its cadence is trusted."""
DEFAULT_RUN_GAP_MINUTES: Final = 60
"""Without run ids, rows written within this gap of each other form one run (a session)."""
DEFAULT_RUN_WINDOW_HOURS: Final = 6
"""A run missing an expected phase this long after it started is ``incomplete``."""
DEFAULT_LINEAGE_WINDOW_HOURS: Final = 24
"""Inferred lineage looks this far back for the latest upstream output."""

ANALYSIS_ENVIRONMENT: Final[tuple[Variable, ...]] = (
    Variable(
        "NOTIFIER_ANOMALY_Z_THRESHOLD",
        False,
        "Row-count anomaly threshold on |modified z-score|. "
        f"Default {DEFAULT_ANOMALY_Z_THRESHOLD}.",
    ),
    Variable(
        "NOTIFIER_ANOMALY_WINDOW_DAYS",
        False,
        "Days of history anomaly and freshness verdicts use. "
        f"Default {DEFAULT_ANOMALY_WINDOW_DAYS}.",
    ),
    Variable(
        "NOTIFIER_ANOMALY_MIN_HISTORY",
        False,
        f"History points needed before a row-count verdict. Default {DEFAULT_ANOMALY_MIN_HISTORY}.",
    ),
    Variable(
        "NOTIFIER_ANOMALY_MIN_CHANGE",
        False,
        "Smallest relative change from the median that can be flagged. "
        f"Default {DEFAULT_ANOMALY_MIN_CHANGE}.",
    ),
    Variable(
        "NOTIFIER_ANOMALY_METRIC_TOLERANCE",
        False,
        "Allowed metric regression vs the previous evaluation (absolute in [0,1], else "
        f"relative). Default {DEFAULT_ANOMALY_METRIC_TOLERANCE}.",
    ),
    Variable(
        "NOTIFIER_ANOMALY_FRESHNESS_FACTOR",
        False,
        "Late after this many times the usual cadence. "
        f"Default {DEFAULT_ANOMALY_FRESHNESS_FACTOR}.",
    ),
    Variable(
        "NOTIFIER_ANOMALY_FRESHNESS_MIN_HISTORY",
        False,
        "Arrival intervals needed before freshness is judged. "
        f"Default {DEFAULT_ANOMALY_FRESHNESS_MIN_HISTORY}.",
    ),
    Variable(
        "NOTIFIER_RUN_GAP_MINUTES",
        False,
        f"Without run ids, a gap this long starts a new run. Default {DEFAULT_RUN_GAP_MINUTES}.",
    ),
    Variable(
        "NOTIFIER_RUN_WINDOW_HOURS",
        False,
        "Hours a run has to show every expected phase before it is incomplete. "
        f"Default {DEFAULT_RUN_WINDOW_HOURS}.",
    ),
    Variable(
        "NOTIFIER_LINEAGE_WINDOW_HOURS",
        False,
        "How far back inferred lineage looks for the upstream output. "
        f"Default {DEFAULT_LINEAGE_WINDOW_HOURS}.",
    ),
)


@dataclass(frozen=True)
class AnalysisSettings:
    """Tunables of notifier.analysis; readable without the S3 or webhook settings."""

    z_threshold: float = DEFAULT_ANOMALY_Z_THRESHOLD
    window_days: int = DEFAULT_ANOMALY_WINDOW_DAYS
    min_history: int = DEFAULT_ANOMALY_MIN_HISTORY
    min_change: float = DEFAULT_ANOMALY_MIN_CHANGE
    metric_tolerance: float = DEFAULT_ANOMALY_METRIC_TOLERANCE
    freshness_factor: float = DEFAULT_ANOMALY_FRESHNESS_FACTOR
    freshness_min_history: int = DEFAULT_ANOMALY_FRESHNESS_MIN_HISTORY
    run_gap_minutes: int = DEFAULT_RUN_GAP_MINUTES
    run_window_hours: int = DEFAULT_RUN_WINDOW_HOURS
    lineage_window_hours: int = DEFAULT_LINEAGE_WINDOW_HOURS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AnalysisSettings:
        env = os.environ if environ is None else environ
        return cls(
            z_threshold=_parse_float(
                env, "NOTIFIER_ANOMALY_Z_THRESHOLD", DEFAULT_ANOMALY_Z_THRESHOLD
            ),
            window_days=_parse_int(
                env, "NOTIFIER_ANOMALY_WINDOW_DAYS", DEFAULT_ANOMALY_WINDOW_DAYS
            ),
            min_history=_parse_int(
                env, "NOTIFIER_ANOMALY_MIN_HISTORY", DEFAULT_ANOMALY_MIN_HISTORY
            ),
            min_change=_parse_float(env, "NOTIFIER_ANOMALY_MIN_CHANGE", DEFAULT_ANOMALY_MIN_CHANGE),
            metric_tolerance=_parse_float(
                env, "NOTIFIER_ANOMALY_METRIC_TOLERANCE", DEFAULT_ANOMALY_METRIC_TOLERANCE
            ),
            freshness_factor=_parse_float(
                env, "NOTIFIER_ANOMALY_FRESHNESS_FACTOR", DEFAULT_ANOMALY_FRESHNESS_FACTOR
            ),
            freshness_min_history=_parse_int(
                env, "NOTIFIER_ANOMALY_FRESHNESS_MIN_HISTORY", DEFAULT_ANOMALY_FRESHNESS_MIN_HISTORY
            ),
            run_gap_minutes=_parse_int(env, "NOTIFIER_RUN_GAP_MINUTES", DEFAULT_RUN_GAP_MINUTES),
            run_window_hours=_parse_int(env, "NOTIFIER_RUN_WINDOW_HOURS", DEFAULT_RUN_WINDOW_HOURS),
            lineage_window_hours=_parse_int(
                env, "NOTIFIER_LINEAGE_WINDOW_HOURS", DEFAULT_LINEAGE_WINDOW_HOURS
            ),
        )


# --- export (alerts webhook, OpenLineage): settings read by workers, serve, `export send` ---

DEFAULT_OPENLINEAGE_NAMESPACE: Final = "notifier"
"""OpenLineage job namespace of the runs notifier exports (datasets use ``s3://<bucket>``)."""
DEFAULT_EXPORT_INTERVAL_SECONDS: Final = 30.0
"""How often a worker's sender thread collects new alerts and events and sends what is due."""

EXPORT_ENVIRONMENT: Final[tuple[Variable, ...]] = (
    Variable(
        "NOTIFIER_ALERT_WEBHOOK_URL",
        False,
        "Incoming-webhook URL (Slack, Mattermost, Teams workflow, any JSON receiver) that "
        "gets one POST per failed, anomalous or late run, anomaly and reconcile drift. "
        "Off when unset.",
        secret=True,
    ),
    Variable(
        "NOTIFIER_OPENLINEAGE_URL",
        False,
        "OpenLineage endpoint that gets one RunEvent (COMPLETE or FAIL) per pipeline run, e.g. "
        "http://marquez:5000/api/v1/lineage. Off when unset.",
        secret=True,
    ),
    Variable(
        "NOTIFIER_OPENLINEAGE_API_KEY",
        False,
        "Sent as 'Authorization: Bearer <key>' to NOTIFIER_OPENLINEAGE_URL. Default: none.",
        secret=True,
    ),
    Variable(
        "NOTIFIER_OPENLINEAGE_NAMESPACE",
        False,
        f"Job namespace of exported runs. Default {DEFAULT_OPENLINEAGE_NAMESPACE}.",
    ),
    Variable(
        "NOTIFIER_EXPORT_INTERVAL_SECONDS",
        False,
        "Seconds between a worker's export rounds (alerts, OpenLineage). "
        f"Default {DEFAULT_EXPORT_INTERVAL_SECONDS:g}.",
    ),
)


@dataclass(frozen=True)
class ExportSettings:
    """Where notifier.export sends; both sinks off by default. URLs may hold tokens."""

    alert_webhook_url: str | None = field(default=None, repr=False)
    openlineage_url: str | None = field(default=None, repr=False)
    openlineage_api_key: str | None = field(default=None, repr=False)
    openlineage_namespace: str = DEFAULT_OPENLINEAGE_NAMESPACE
    interval_seconds: float = DEFAULT_EXPORT_INTERVAL_SECONDS

    @property
    def enabled(self) -> bool:
        return bool(self.alert_webhook_url or self.openlineage_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ExportSettings:
        env = os.environ if environ is None else environ
        return cls(
            alert_webhook_url=_parse_http_url(env, "NOTIFIER_ALERT_WEBHOOK_URL"),
            openlineage_url=_parse_http_url(env, "NOTIFIER_OPENLINEAGE_URL"),
            openlineage_api_key=env.get("NOTIFIER_OPENLINEAGE_API_KEY", "").strip() or None,
            openlineage_namespace=env.get("NOTIFIER_OPENLINEAGE_NAMESPACE", "").strip()
            or DEFAULT_OPENLINEAGE_NAMESPACE,
            interval_seconds=_parse_float(
                env, "NOTIFIER_EXPORT_INTERVAL_SECONDS", DEFAULT_EXPORT_INTERVAL_SECONDS
            ),
        )


def _parse_http_url(env: Mapping[str, str], name: str) -> str | None:
    """An optional http(s) URL; the message never repeats it (it may hold a token)."""
    value = env.get(name, "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http:// or https:// URL")
    return value


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
        "PROMETHEUS_MULTIPROC_DIR",
        False,
        "prometheus-client's own variable: a writable folder shared by the processes of "
        "one pod (gunicorn workers, worker processes), so /metrics sums their counts.",
    ),
    Variable(
        "NOTIFIER_LOG_FORMAT",
        False,
        "'text' (readable lines, for terminals) or 'json' (one JSON object per line, for "
        "containers). Default: text.",
    ),
    Variable(
        "NOTIFIER_DASHBOARD_TOKEN",
        False,
        "Viewer token of the read-only audit dashboard at /dashboard/ (off when unset); "
        "separate from the webhook token.",
        secret=True,
    ),
    Variable(
        "NOTIFIER_SNS_CONFIRM_TOPICS",
        False,
        "SNS topic ARNs (comma-separated) whose subscription confirmations notifier follows.",
    ),
    *ANALYSIS_ENVIRONMENT,
    *EXPORT_ENVIRONMENT,
    Variable(
        "NOTIFIER_PATH_TEMPLATES",
        False,
        "Key-path templates, bucket=template entries separated by ';' (several per bucket, "
        "tried in order), e.g. models={modelo_nombre}/{run_id}/{file}. Placeholders "
        "{modelo_nombre}, {nombre_dataset}, {run_id} fill those columns; also {file}, "
        "{other_name}, {*}, **. Default: none.",
    ),
    Variable(
        "NOTIFIER_CSV_DIALECTS",
        False,
        "CSV dialect overrides per bucket and key prefix, ';'-separated rules "
        "'bucket[/prefix]=option:value,...'; options header:present|absent, "
        "delimiter:comma|semicolon|tab|pipe, encoding:<codec> (e.g. utf-16, cp1252). "
        "Example: 'raw/unsw/=header:absent;silver/eu/=delimiter:semicolon,encoding:cp1252'.",
    ),
    Variable(
        "NOTIFIER_IGNORE_PATTERNS",
        False,
        "Glob patterns (comma-separated) of keys that are not data, recorded as skipped; "
        "added to the built-in job markers and table-format logs. A pattern without '/' "
        "matches the file name, one with '/' the key at any depth; e.g. '*.tmp,_staging/*'.",
    ),
    # Liveness and retention (issue 13).
    Variable(
        "NOTIFIER_WORKER_HEARTBEAT_FILE",
        False,
        "File `notifier worker` keeps fresh while it works; probed by "
        "`python -m notifier.heartbeat FILE` (unset: no heartbeat).",
    ),
    Variable(
        "NOTIFIER_EVENT_RETENTION_DAYS",
        False,
        "`notifier events prune` drops the raw payload of events processed longer ago "
        "than this many days (unset: keep payloads).",
    ),
)

ENVIRONMENT_NAMES: Final = frozenset(v.name for v in ENVIRONMENT)

DEFAULT_MAX_SCAN_BYTES: Final = 10 * 1024**3
"""Text formats are scanned end to end; past 10 GiB a scan costs minutes of a worker."""

DEFAULT_INSPECT_TIMEOUT_SECONDS: Final = 600.0
"""A 1 GiB CSV counts in seconds; ten minutes leaves room for a slow store."""

DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024
"""One MinIO event is a few KiB; a MiB leaves room for batches and big metadata."""

MIN_DASHBOARD_TOKEN_LENGTH: Final = 16
"""A viewer token is typed once per browser; 16 characters keep guessing out of reach."""

LOG_FORMATS: Final = ("text", "json")
DEFAULT_LOG_FORMAT: Final = "text"
"""Readable lines; the Kubernetes manifests set ``json`` for log collectors."""

DEFAULT_IGNORE_PATTERNS: Final[tuple[str, ...]] = ()
"""No extra patterns: notifier.inspection.not_data already skips job markers, checksums
and Delta Lake, Iceberg and Hudi logs and manifests."""

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


CSV_DELIMITER_NAMES: Final[Mapping[str, str]] = {
    "comma": ",",
    "semicolon": ";",
    "tab": "\t",
    "pipe": "|",
}
"""Delimiters an override may name (by name: the characters collide with the syntax)."""


@dataclass(frozen=True)
class CsvDialectRule:
    """An operator's CSV dialect for the objects of ``bucket`` whose key starts with
    ``prefix``; None leaves that choice to detection. Longest matching prefix wins."""

    bucket: str
    prefix: str = ""
    delimiter: str | None = None
    header: bool | None = None
    encoding: str | None = None

    def applies_to(self, bucket: str, key: str) -> bool:
        return bucket == self.bucket and key.startswith(self.prefix)


def parse_csv_dialects(text: str) -> tuple[CsvDialectRule, ...]:
    """``"raw/unsw/=header:absent;silver=delimiter:semicolon"`` -> rules.

    Rules are ``;``-separated; each is ``bucket[/prefix]=option:value,...`` split on
    its last ``=`` (so Hive-style prefixes such as ``raw/t/date=2024/`` work). Options:
    ``header`` (present, absent), ``delimiter`` (comma, semicolon, tab, pipe) and
    ``encoding`` (any Python codec name). Raises ConfigError naming the bad part.
    """
    rules: dict[tuple[str, str], CsvDialectRule] = {}
    for rule_text in filter(None, (r.strip() for r in text.split(";"))):
        location, sep, options = (s.strip() for s in rule_text.rpartition("="))
        if not sep or not location or not options:
            raise ConfigError(
                f"NOTIFIER_CSV_DIALECTS: {rule_text!r} is not bucket[/prefix]=option:value,..."
            )
        bucket, _, prefix = location.partition("/")
        if (bucket, prefix) in rules:
            raise ConfigError(f"NOTIFIER_CSV_DIALECTS: {location!r} has two rules")
        delimiter, header, encoding = _csv_dialect_options(options)
        rules[bucket, prefix] = CsvDialectRule(bucket, prefix, delimiter, header, encoding)
    return tuple(rules.values())


def _csv_dialect_options(text: str) -> tuple[str | None, bool | None, str | None]:
    chosen: dict[str, str | bool] = {}
    for item in filter(None, (o.strip() for o in text.split(","))):
        name, _, value = (s.strip().lower() for s in item.partition(":"))
        if name in chosen:
            raise ConfigError(f"NOTIFIER_CSV_DIALECTS: option {name!r} given twice")
        if name == "header" and value in ("present", "absent"):
            chosen[name] = value == "present"
        elif name == "delimiter" and value in CSV_DELIMITER_NAMES:
            chosen[name] = CSV_DELIMITER_NAMES[value]
        elif name == "encoding" and _is_codec(value):
            chosen[name] = codecs.lookup(value).name
        else:
            raise ConfigError(
                f"NOTIFIER_CSV_DIALECTS: {item!r} is not one of header:present|absent, "
                f"delimiter:{'|'.join(CSV_DELIMITER_NAMES)}, encoding:<codec name>"
            )
    delimiter, header, encoding = (chosen.get(k) for k in ("delimiter", "header", "encoding"))
    return (
        delimiter if isinstance(delimiter, str) else None,
        header if isinstance(header, bool) else None,
        encoding if isinstance(encoding, str) else None,
    )


def _is_codec(name: str) -> bool:
    try:
        return bool(name) and codecs.lookup(name)._is_text_encoding
    except LookupError:
        return False


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
    log_format: str = DEFAULT_LOG_FORMAT
    sns_confirm_topics: frozenset[str] = frozenset()
    dashboard_token: str | None = field(default=None, repr=False)
    """The viewer token of /dashboard/; None: the dashboard is not served."""
    path_templates: PathTemplates = field(default_factory=lambda: _parse_path_templates({}, {}))
    """Key-path templates per bucket (NOTIFIER_PATH_TEMPLATES); none by default."""
    analysis: AnalysisSettings = AnalysisSettings()
    csv_dialects: tuple[CsvDialectRule, ...] = ()
    ignore_patterns: tuple[str, ...] = DEFAULT_IGNORE_PATTERNS
    worker_heartbeat_file: Path | None = None
    """Where the worker writes its liveness deadline (notifier.heartbeat); None: nowhere."""
    event_retention_days: int | None = None
    """Age after which a processed event's raw payload may be pruned; None: never."""
    export: ExportSettings = ExportSettings()
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
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, receives_webhooks: bool = True
    ) -> Settings:
        """Read every setting once; raise one ConfigError naming every bad variable.

        ``receives_webhooks=False`` is for commands that never authenticate a webhook
        (rescan, reconcile, report, dead-letters): the token is then not required.
        """
        env = os.environ if environ is None else environ
        errors = _Errors()
        auth_disabled = errors.take(
            lambda: _parse_bool(env, "NOTIFIER_AUTH_DISABLED", default=False), False
        )
        token = errors.take(
            lambda: _parse_token(env, required=receives_webhooks and not auth_disabled), None
        )
        database_url = errors.take(lambda: _required(env, "NOTIFIER_DATABASE_URL"), "")
        endpoint = errors.take(lambda: _parse_endpoint(env), "")
        access_key = errors.take(lambda: _required(env, "NOTIFIER_S3_ACCESS_KEY"), "")
        secret_key = errors.take(lambda: _required(env, "NOTIFIER_S3_SECRET_KEY"), "")
        bucket_phases: Mapping[str, Phase] = errors.take(
            lambda: parse_bucket_map(env.get("NOTIFIER_BUCKET_MAP") or DEFAULT_BUCKET_MAP), {}
        )
        max_scan_bytes = errors.take(
            lambda: _parse_int(env, "NOTIFIER_MAX_SCAN_BYTES", DEFAULT_MAX_SCAN_BYTES), 0
        )
        inspect_timeout_seconds = errors.take(
            lambda: _parse_float(
                env, "NOTIFIER_INSPECT_TIMEOUT_SECONDS", DEFAULT_INSPECT_TIMEOUT_SECONDS
            ),
            0.0,
        )
        max_body_bytes = errors.take(
            lambda: _parse_int(env, "NOTIFIER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES), 0
        )
        worker_threads = errors.take(
            lambda: _parse_int(env, "NOTIFIER_WORKER_THREADS", DEFAULT_WORKER_THREADS), 0
        )
        max_attempts = errors.take(
            lambda: _parse_int(env, "NOTIFIER_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS), 0
        )
        db_pool_size = errors.take(
            lambda: _parse_int(env, "NOTIFIER_DB_POOL_SIZE", DEFAULT_DB_POOL_SIZE), 0
        )
        log_level = errors.take(lambda: _parse_log_level(env), "INFO")
        log_format = errors.take(lambda: _parse_log_format(env), DEFAULT_LOG_FORMAT)
        dashboard_token = errors.take(lambda: _parse_dashboard_token(env, token), None)
        path_templates = errors.take(
            lambda: _parse_path_templates(env, bucket_phases), _parse_path_templates({}, {})
        )
        analysis = errors.take(lambda: AnalysisSettings.from_env(env), AnalysisSettings())
        csv_dialects: tuple[CsvDialectRule, ...] = errors.take(
            lambda: parse_csv_dialects(env.get("NOTIFIER_CSV_DIALECTS", "")), ()
        )
        worker_heartbeat_file = errors.take(
            lambda: _parse_path(env, "NOTIFIER_WORKER_HEARTBEAT_FILE"), None
        )
        event_retention_days = errors.take(
            lambda: _parse_optional_int(env, "NOTIFIER_EVENT_RETENTION_DAYS"), None
        )
        export = errors.take(lambda: ExportSettings.from_env(env), ExportSettings())
        lease_seconds = errors.take(
            lambda: _parse_float(env, "NOTIFIER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS),
            DEFAULT_LEASE_SECONDS,
        )
        worker_processes = errors.take(
            lambda: _parse_int(env, "NOTIFIER_WORKER_PROCESSES", DEFAULT_WORKER_PROCESSES),
            DEFAULT_WORKER_PROCESSES,
        )
        worker_batch_size = errors.take(
            lambda: _parse_int(env, "NOTIFIER_WORKER_BATCH_SIZE", DEFAULT_WORKER_BATCH_SIZE),
            DEFAULT_WORKER_BATCH_SIZE,
        )
        errors.raise_if_any()
        return cls(
            database_url=database_url,
            s3=S3Settings(
                endpoint=endpoint,
                access_key=access_key,
                secret_key=secret_key,
                region=env.get("NOTIFIER_S3_REGION") or None,
            ),
            auth_token=None if auth_disabled else token,
            bucket_phases=bucket_phases,
            max_scan_bytes=max_scan_bytes,
            inspect_timeout_seconds=inspect_timeout_seconds,
            max_body_bytes=max_body_bytes,
            worker_threads=worker_threads,
            max_attempts=max_attempts,
            db_pool_size=db_pool_size,
            log_level=log_level,
            log_format=log_format,
            dashboard_token=dashboard_token,
            sns_confirm_topics=frozenset(
                t.strip()
                for t in env.get("NOTIFIER_SNS_CONFIRM_TOPICS", "").split(",")
                if t.strip()
            ),
            path_templates=path_templates,
            analysis=analysis,
            csv_dialects=csv_dialects,
            ignore_patterns=tuple(
                p.strip() for p in env.get("NOTIFIER_IGNORE_PATTERNS", "").split(",") if p.strip()
            )
            or DEFAULT_IGNORE_PATTERNS,
            worker_heartbeat_file=worker_heartbeat_file,
            event_retention_days=event_retention_days,
            export=export,
            lease_seconds=lease_seconds,
            worker_processes=worker_processes,
            worker_batch_size=worker_batch_size,
        )


class _Errors:
    """Collects every setting's problem, so one run reports them all."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def take(self, parse: Callable[[], T], fallback: T) -> T:
        """``parse()``, or ``fallback`` with its ConfigError remembered."""
        try:
            return parse()
        except ConfigError as exc:
            self.messages.append(str(exc))
            return fallback

    def raise_if_any(self) -> None:
        if len(self.messages) == 1:
            raise ConfigError(self.messages[0])
        if self.messages:
            listed = "".join(f"\n  - {message}" for message in self.messages)
            raise ConfigError(f"{len(self.messages)} settings are missing or malformed:{listed}")


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


def _parse_token(env: Mapping[str, str], *, required: bool) -> str | None:
    token = env.get("NOTIFIER_AUTH_TOKEN") or None
    if token is None and required:
        raise ConfigError(
            "NOTIFIER_AUTH_TOKEN is not set: set it to the webhook's auth_token, or set "
            "NOTIFIER_AUTH_DISABLED=true to accept unauthenticated events"
        )
    if token is not None and len(token.split()) != 1:
        raise ConfigError("NOTIFIER_AUTH_TOKEN must be a single word (no spaces)")
    return token


def _parse_dashboard_token(env: Mapping[str, str], webhook_token: str | None) -> str | None:
    token = env.get("NOTIFIER_DASHBOARD_TOKEN", "").strip() or None
    if token is None:
        return None
    if len(token) < MIN_DASHBOARD_TOKEN_LENGTH:
        raise ConfigError(
            f"NOTIFIER_DASHBOARD_TOKEN must be at least {MIN_DASHBOARD_TOKEN_LENGTH} characters"
        )
    if token == webhook_token:
        raise ConfigError(
            "NOTIFIER_DASHBOARD_TOKEN must differ from NOTIFIER_AUTH_TOKEN: a viewer must "
            "not be able to send events"
        )
    return token


def _parse_log_format(env: Mapping[str, str]) -> str:
    value = env.get("NOTIFIER_LOG_FORMAT", "").strip().lower() or DEFAULT_LOG_FORMAT
    if value not in LOG_FORMATS:
        raise ConfigError(
            f"NOTIFIER_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {value!r}"
        )
    return value


def _parse_path_templates(
    env: Mapping[str, str], bucket_phases: Mapping[str, Phase]
) -> PathTemplates:
    """NOTIFIER_PATH_TEMPLATES, compiled; every bucket named must be mapped (or ``*``)."""
    # Imported here: the grammar lives with inspection, whose import pulls in pyarrow,
    # which commands such as ``notifier db upgrade`` never need.
    from notifier.inspection.paths import TemplateError, parse_path_templates

    try:
        templates = parse_path_templates(env.get("NOTIFIER_PATH_TEMPLATES", ""))
    except TemplateError as exc:
        raise ConfigError(f"NOTIFIER_PATH_TEMPLATES: {exc}") from None
    unmapped = sorted(templates.buckets - set(bucket_phases))
    if unmapped:
        raise ConfigError(
            f"NOTIFIER_PATH_TEMPLATES: bucket {unmapped[0]!r} is not in NOTIFIER_BUCKET_MAP"
        )
    return templates


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


def _parse_optional_int(env: Mapping[str, str], name: str) -> int | None:
    return _parse_int(env, name, 0) if env.get(name, "").strip() else None


def _parse_path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not Path(raw).is_absolute():
        raise ConfigError(f"{name} must be an absolute path, got {raw!r}")
    return Path(raw)


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
