"""Shared by the benchmarks: each measurement runs in a fresh child process, so peak RSS
and warm caches of one mode never leak into another."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def measure(script: str, mode: str, path: Path) -> dict[str, Any]:
    """Run ``script --child MODE PATH`` and return the JSON it prints."""
    run = subprocess.run(
        [sys.executable, script, "--child", mode, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def parser(description: str, default_size_mb: int) -> argparse.ArgumentParser:
    """``--size-mb``, ``--dir`` and the hidden ``--child MODE PATH``."""
    parsed = argparse.ArgumentParser(description=description)
    parsed.add_argument(
        "--size-mb", type=int, default=default_size_mb, help=f"file size in MiB ({default_size_mb})"
    )
    parsed.add_argument("--dir", default=None, help="where the temporary file goes (TMPDIR)")
    parsed.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    return parsed
