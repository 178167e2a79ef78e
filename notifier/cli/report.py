"""``notifier report`` (the four audit questions) and ``notifier analyze``.

Both need only NOTIFIER_DATABASE_URL (and the optional NOTIFIER_ANOMALY_* /
NOTIFIER_RUN_* / NOTIFIER_LINEAGE_* settings): no S3 credentials, no webhook token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

import click
import psycopg

from notifier import analysis
from notifier.analysis import report as answers
from notifier.cli.exits import EXIT_FINDINGS, ConfigurationError
from notifier.cli.runtime import database_connection
from notifier.config import AnalysisSettings
from notifier.errors import ConfigError

DATE_FORMATS: Final = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
MAX_CELL: Final = 90
"""Widest cell of a terminal table; longer text is cut with an ellipsis."""


@contextmanager
def _connection() -> Iterator[tuple[psycopg.Connection[Any], AnalysisSettings]]:
    try:
        settings = AnalysisSettings.from_env()
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    with database_connection() as conn:
        yield conn, settings


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, default=_json_value, indent=2, ensure_ascii=False))


def _cell(value: Any, limit: int | None = MAX_CELL) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    text = str(value)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Rows as an aligned text table; ``columns`` are (key, heading) pairs.

    Cells are cut at MAX_CELL characters, except in the last column (a reason, say).
    """
    last = len(columns) - 1
    cells = [
        [_cell(row.get(key), None if i == last else MAX_CELL) for i, (key, _) in enumerate(columns)]
        for row in rows
    ]
    widths = [
        max([len(heading), *(len(r[i]) for r in cells)]) for i, (_, heading) in enumerate(columns)
    ]
    lines = ["  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells
    )
    return "\n".join(lines)


def _refresh(conn: psycopg.Connection[Any], settings: AnalysisSettings) -> None:
    """Re-judge lateness and runs in progress; a read-only user gets the stored answers."""
    try:
        refreshed = analysis.refresh(conn, settings, datetime.now(UTC))
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction) as exc:
        click.echo(
            f"warning: cannot refresh lateness and run status ({type(exc).__name__}); "
            "showing what was last computed",
            err=True,
        )
        return
    if refreshed.unanalysed:
        click.echo(
            f"warning: {refreshed.unanalysed:,} audit rows are not analysed yet; "
            "run `notifier analyze` for complete answers",
            err=True,
        )


def register(main: click.Group) -> None:
    """Attach ``report`` and ``analyze`` to ``main``."""
    main.add_command(report)
    main.add_command(analyze)


json_option: Callable[[Callable[..., Any]], Callable[..., Any]] = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table."
)


@click.group()
def report() -> None:
    """Answer the four audit questions (needs only NOTIFIER_DATABASE_URL).

    \b
    last-run         when did each phase (and the pipeline) last run?
    lineage MODEL    which data trained a model, and how sure is that?
    records          how many records did each phase handle?
    problems         which rows or runs failed, looked anomalous or are late?
    """


@report.command("last-run")
@json_option
def last_run(as_json: bool) -> None:
    """When each phase last produced, and the latest pipeline run."""
    with _connection() as (conn, settings):
        _refresh(conn, settings)
        data = answers.last_run(conn)
    if as_json:
        _emit_json(data)
        return
    click.echo(
        table(
            data["phases"],
            [
                ("phase", "phase"),
                ("last_at", "last (UTC)"),
                ("last_estado", "estado"),
                ("last_ok_at", "last ok (UTC)"),
                ("last_dataset", "dataset"),
                ("pipeline_run_id", "run"),
                ("pipeline_run_status", "run status"),
            ],
        )
    )
    run = data["pipeline_run"]
    if run is not None:
        click.echo(
            f"\nlatest pipeline run {run['id']}: {run['status']}, "
            f"{_cell(run['started_at'])} to {_cell(run['ended_at'])} UTC, "
            f"phases {_cell(run['phases'])}" + (f" ({run['reason']})" if run["reason"] else "")
        )


@report.command("lineage")
@click.argument("model")
@json_option
def lineage(model: str, as_json: bool) -> None:
    """Which data trained MODEL: a model name, an object key or an s3:// URI.

    Each input says how it is known (declared, run_id, inferred) and with what
    confidence. Exit status 1 when nothing matches MODEL.
    """
    with _connection() as (conn, settings):
        _refresh(conn, settings)
        models = answers.lineage(conn, model)
    if as_json:
        _emit_json(models)
    if not models:
        if not as_json:
            click.echo(f"no training row matches {model!r}", err=True)
        raise SystemExit(1)
    if as_json:
        return
    for entry in models:
        click.echo(
            f"model {entry['model']}  {entry['ruta_modelo']}  trained "
            f"{_cell(entry['timestamp_entrenamiento'])} UTC  ({entry['estado']})"
        )
        if not entry["inputs"]:
            click.echo("  trained on: unknown (nothing declared, no run id, nothing inferred)")
        for item in entry["inputs"]:
            what = item["input_uri"] or f"{item['reference']} (not audited)"
            click.echo(
                f"  trained on {what}  [{item['method']}, confidence {item['confidence']:g}]"
                f"  {_cell(item['input_records'])} records"
            )
            for up in item["upstream"]:
                click.echo(
                    f"    from {up['uri'] or '-'}  [{up['method']}, confidence "
                    f"{up['confidence']:g}]  {_cell(up['num_registros'])} records"
                )
        for ev in entry["evaluations"]:
            click.echo(
                f"  evaluated {_cell(ev['timestamp_eval'])} UTC  {ev['ruta_resultados']}  "
                f"{_cell(ev['metrics'])}"
            )
        click.echo("")


@report.command("records")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day.")
@click.option(
    "--by",
    type=click.Choice(["day", "dataset"]),
    default="day",
    show_default=True,
    help="Rows per phase and day, or per phase and dataset.",
)
@json_option
def records(since: datetime | None, by: str, as_json: bool) -> None:
    """Records each phase handled, over objects that exist now (ok rows)."""
    with _connection() as (conn, _settings):
        rows = answers.records(conn, since.date() if since else None, by)
    if as_json:
        _emit_json(rows)
        return
    key = ("day", "day (UTC)") if by == "day" else ("dataset", "dataset")
    click.echo(
        table(
            rows,
            [
                ("phase", "phase"),
                key,
                ("objects", "objects"),
                ("records", "records"),
                ("uncounted", "uncounted"),
            ],
        )
    )


@report.command("problems")
@click.option(
    "--since",
    type=click.DateTime(DATE_FORMATS),
    default=None,
    help="From this time (UTC). Default: the last NOTIFIER_ANOMALY_WINDOW_DAYS days.",
)
@click.option(
    "--check",
    is_flag=True,
    help=f"Exit with status {EXIT_FINDINGS} when there is any problem (for CI and cron).",
)
@json_option
def problems(since: datetime | None, check: bool, as_json: bool) -> None:
    """Failed rows, anomalies with their reasons, late datasets, failed or odd runs."""
    with _connection() as (conn, settings):
        _refresh(conn, settings)
        start = _utc(since) or datetime.now(UTC) - timedelta(days=settings.window_days)
        rows = answers.problems(conn, start)
    if as_json:
        _emit_json(rows)
    elif rows:
        click.echo(
            table(
                rows,
                [
                    ("at", "at (UTC)"),
                    ("kind", "kind"),
                    ("severity", "severity"),
                    ("phase", "phase"),
                    ("rule", "rule"),
                    ("pipeline_run_id", "run"),
                    ("reason", "reason"),
                ],
            )
        )
    else:
        click.echo(f"no problems since {_cell(start)} UTC")
    if check and rows:
        raise SystemExit(EXIT_FINDINGS)


@click.command()
@click.option(
    "--since",
    type=click.DateTime(DATE_FORMATS),
    default=None,
    help="Recompute rows written from this time (UTC). Default: all of them.",
)
def analyze(since: datetime | None) -> None:
    """(Re)compute datasets, runs, lineage and anomalies; idempotent.

    Workers analyse each row as they write it; run this after a backfill, a change
    of NOTIFIER_ANOMALY_* settings, or from cron to re-check freshness.
    """
    with _connection() as (conn, settings):
        start = _utc(since) or datetime(1970, 1, 1, tzinfo=UTC)
        summary = analysis.analyze(conn, settings, start, datetime.now(UTC))
    click.echo(
        f"analysed {summary.rows} rows: {summary.runs} runs, {summary.anomalies} anomalies, "
        f"{summary.late} late datasets"
    )
