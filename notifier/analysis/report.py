"""The four audit questions, answered from the analysis views as plain records.

Each function returns JSON-ready dicts (times stay ``datetime``; the CLI renders
them); the SQL lives in ``queries/report.sql`` and the views in
``sql/008_analysis.sql``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row

from notifier.db import query

MAX_MODELS: Final = 20
"""Training rows one ``lineage`` answer shows (newest first)."""

EPOCH: Final = date(1970, 1, 1)


def last_run(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """``{"phases": [...one per phase...], "pipeline_run": {...} | None}``."""
    cursor = conn.cursor(row_factory=dict_row)
    phases = cursor.execute(query("report_last_run")).fetchall()
    run = cursor.execute(query("report_last_pipeline_run")).fetchone()
    return {"phases": phases, "pipeline_run": run}


def lineage(conn: psycopg.Connection[Any], target: str) -> list[dict[str, Any]]:
    """The models ``target`` names, each with its inputs (and theirs) and evaluations."""
    cursor = conn.cursor(row_factory=dict_row)
    models = cursor.execute(
        query("report_models"), {"target": target.strip(), "limit": MAX_MODELS}
    ).fetchall()
    for model in models:
        inputs = cursor.execute(query("report_model_inputs"), {"id": model["id"]}).fetchall()
        for item in inputs:
            item["upstream"] = (
                cursor.execute(
                    query("report_upstream"),
                    {"table": item["input_table"], "id": item["input_id"]},
                ).fetchall()
                if item["input_id"] is not None
                else []
            )
        model["inputs"] = inputs
        model["evaluations"] = cursor.execute(
            query("report_model_evaluations"), {"id": model["id"]}
        ).fetchall()
    return models


def records(conn: psycopg.Connection[Any], since: date | None, by: str) -> list[dict[str, Any]]:
    """Records per phase and day (``by="day"``) or per phase and dataset, current objects."""
    name = "report_records_by_day" if by == "day" else "report_records_by_dataset"
    cursor = conn.cursor(row_factory=dict_row)
    return cursor.execute(query(name), {"since": since or EPOCH}).fetchall()


def problems(conn: psycopg.Connection[Any], since: datetime) -> list[dict[str, Any]]:
    """Failed rows, open anomalies (lateness included) and failed/anomalous/incomplete runs."""
    cursor = conn.cursor(row_factory=dict_row)
    return cursor.execute(query("report_problems"), {"since": since}).fetchall()
