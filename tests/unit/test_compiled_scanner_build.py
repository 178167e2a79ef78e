"""The compiled CSV scanner (notifier.inspection.datasets._csvscan) and its packaging.

hatch_build.py compiles notifier/inspection/datasets/_csvscan.c: in place for editable
installs, into the wheel for standard ones. Without a C compiler the install warns and
goes on as pure Python; these tests make that loss visible instead of skipping.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULE = "notifier.inspection.datasets._csvscan"
MISSING = "the compiled CSV scanner is missing: reinstall with a C compiler: pip install -e ."


def test_the_compiled_scanner_is_importable() -> None:
    try:
        module = importlib.import_module(MODULE)
    except ImportError as exc:
        error = str(exc)
    else:
        error = ""
    if error:
        pytest.fail(f"{MISSING} ({error})", pytrace=False)
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    assert module.__file__ is not None
    assert module.__file__.endswith(suffix), module.__file__


def test_a_standard_wheel_carries_the_scanner_and_is_platform_tagged(tmp_path: Path) -> None:
    """``pip wheel .`` (the Dockerfile's build), with build isolation: needs PyPI."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path, REPO],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "NOTIFIER_REQUIRE_COMPILED": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("notifier-*.whl")
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        tags = archive.read("notifier-0.1.0.dist-info/WHEEL").decode()
    assert f"notifier/inspection/datasets/_csvscan{suffix}" in names, sorted(names)
    assert not [n for n in names if n.endswith(".c")], "the C source belongs in the sdist only"
    assert "notifier/migrations/001_initial.sql" in names  # the other force-include stays
    assert "Root-Is-Purelib: false" in tags
    assert "-none-any" not in wheel.name, wheel.name
