"""Writes ``analysis_batches_expected.json``: the runs, links and anomalies the
row-by-row analysis (main before batching, 3ad9c05) stores for test_analysis_batches'
history, by ``analyze`` and by the per-row hook.

    .venv/bin/python tests/integration/make_analysis_batches_expected.py [REF]

Exports REF's ``notifier`` package (git archive), starts a throwaway PostgreSQL, and
runs that code (first on PYTHONPATH) in a child process against it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def child(url: str, mode: str) -> None:
    import psycopg

    from notifier import analysis
    from tests.integration.test_analysis_batches import build_history, stored
    from tests.integration.test_analysis_rules import NOW, SETTINGS, T0

    with psycopg.connect(url, autocommit=True) as db:
        written = build_history(db)
        if mode == "analyze":
            analysis.analyze(db, SETTINGS, T0 - timedelta(days=1), NOW)
        else:
            for phase, event in written:
                analysis.engine.analyze_written(db, SETTINGS, phase, event, NOW)
        print(json.dumps(stored(db)))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
        return
    ref = sys.argv[1] if len(sys.argv) > 1 else "3ad9c05"
    import psycopg
    from psycopg.conninfo import make_conninfo

    from notifier.db import upgrade
    from notifier.devstack.servers import LocalPostgres, free_port

    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "archive", ref, "notifier"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        expected = {}
        with LocalPostgres(Path(tmp) / "pg", free_port(), ephemeral=True) as postgres:
            for mode in ("analyze", "hook"):
                with psycopg.connect(postgres.url, autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE expected_{mode}")
                url = make_conninfo(postgres.url, dbname=f"expected_{mode}")
                with psycopg.connect(url, autocommit=True) as conn:
                    upgrade(conn)
                out = subprocess.run(
                    [sys.executable, __file__, "--child", url, mode],
                    env={**os.environ, "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}"},
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=tmp,
                ).stdout
                expected[mode] = json.loads(out)
    path = Path(__file__).with_name("analysis_batches_expected.json")
    path.write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {path} from {ref}")


if __name__ == "__main__":
    main()
