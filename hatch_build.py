"""Hatchling build hook: compiles notifier's one C extension, the CSV record scanner.

``notifier/inspection/datasets/_csvscan.c`` becomes the module
``notifier.inspection.datasets._csvscan``, compiled by setuptools' ``build_ext`` with the
system C compiler, ``-O3`` on top of Python's own flags and never ``-march=native`` (the
wheels run on any CPU of their platform).

* Editable installs (``pip install -e .``) build the shared library in place, next to the
  C file, where the source tree's imports find it; the editable wheel does not carry it.
* Standard wheels (``pip wheel .``) carry it at notifier/inspection/datasets/ and are
  tagged for the building interpreter and platform (cp311-cp311-linux_x86_64, ...).

Without a working compiler the build warns and goes on as pure Python (CSV counting then
falls back to pyarrow), unless ``NOTIFIER_REQUIRE_COMPILED=1``: then it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

EXTENSION = "notifier.inspection.datasets._csvscan"
SOURCE = "notifier/inspection/datasets/_csvscan.c"
REQUIRE_ENV = "NOTIFIER_REQUIRE_COMPILED"


class NotBuiltError(RuntimeError):
    """The extension could not be compiled; the message says why."""


def build_extension(root: Path, inplace: bool, out_dir: Path) -> Path:
    """Compile the scanner; return the path of the shared library it wrote.

    ``inplace``: write it next to the C source under ``root``; otherwise under
    ``out_dir`` (package layout). Object files go to ``out_dir``. Raises NotBuiltError
    when setuptools or the compiler is missing or the compilation fails.
    """
    try:
        from setuptools import Distribution, Extension
        from setuptools.errors import BaseError, CCompilerError
    except ImportError as exc:
        raise NotBuiltError(f"setuptools is not importable: {exc}") from exc
    flags = [] if os.name == "nt" else ["-O3"]
    ext = Extension(EXTENSION, sources=[SOURCE], extra_compile_args=flags)
    dist = Distribution({"name": "notifier", "ext_modules": [ext]})
    cmd: Any = dist.get_command_obj("build_ext")
    cmd.inplace, cmd.force = inplace, True
    cmd.build_lib, cmd.build_temp = str(out_dir), str(out_dir / "temp")
    with contextlib.chdir(root):
        cmd.ensure_finalized()
        target = Path(cmd.get_ext_fullpath(EXTENSION)).resolve()
        if inplace:
            target.unlink(missing_ok=True)  # a stale build must not outlive a failed one
        try:
            cmd.run()
        except (CCompilerError, BaseError, OSError) as exc:
            raise NotBuiltError(f"{type(exc).__name__}: {exc}") from exc
    return target


class CustomBuildHook(BuildHookInterface):
    """Builds the scanner for the wheel target (standard and editable)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile; for a standard wheel, include the library and tag the wheel."""
        self._scratch = Path(tempfile.mkdtemp(prefix="notifier-build-")).resolve()
        editable = version == "editable"
        try:
            built = build_extension(Path(self.root), editable, self._scratch)
        except NotBuiltError as exc:
            reason = str(exc)
        else:
            reason = ""
        if reason:
            self._not_built(reason)
            return
        if not editable:
            relative = built.relative_to(self._scratch).as_posix()
            build_data["force_include"][str(built)] = relative
            build_data["pure_python"] = False
            build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the scratch directory once the wheel is written."""
        shutil.rmtree(self._scratch, ignore_errors=True)

    def _not_built(self, reason: str) -> None:
        """Warn and go on as pure Python, or fail when the environment requires it."""
        message = (
            f"notifier: the compiled CSV scanner was not built ({reason}); "
            "CSV counting falls back to pyarrow"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            raise NotBuiltError(f"{message}. {REQUIRE_ENV}=1 requires it: install a C compiler")
        print(f"WARNING: {message}", file=sys.stderr)
