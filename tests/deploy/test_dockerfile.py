"""What can be checked of the Dockerfile without a Docker engine.

The build itself is not run here (no engine on CI). These tests check that what it
copies exists and gets past .dockerignore, that it runs as the user the manifests
expect, and that its default command is the receiver the Service points at.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from pathlib import Path

import yaml

from tests.deploy.conftest import K8S, REPO

DOCKERFILE = (REPO / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    """The arguments of every ``name`` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [
        line.split(None, 1)[1]
        for line in joined.splitlines()
        if line.strip().upper().startswith(name + " ")
    ]


def ignored(path: str) -> bool:
    """.dockerignore's verdict for one path: the last matching pattern wins."""
    verdict = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if pattern.startswith("**/"):
            matched = any(fnmatch.fnmatch(part, pattern[3:]) for part in Path(path).parts)
        else:
            parts = Path(path).parts
            matched = any(
                fnmatch.fnmatch("/".join(parts[: i + 1]), pattern) for i in range(len(parts))
            )
        if matched:
            verdict = not negate
    return verdict


def test_both_stages_use_the_same_pinned_slim_python() -> None:
    bases = [args.split()[0] for args in instructions("FROM")]
    assert len(bases) == 2, bases
    assert bases[0] == bases[1], bases
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-bookworm)?", bases[0]), bases[0]


def test_everything_copied_exists_and_passes_dockerignore() -> None:
    sources = []
    for args in instructions("COPY"):
        words = shlex.split(args)
        if any(w.startswith("--from") for w in words):
            continue
        sources += [w for w in words[:-1] if not w.startswith("--")]
    assert sources
    for source in sources:
        path = REPO / source
        assert path.exists(), f"COPY {source}: no such file"
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        kept = [p for p in files if not ignored(str(p.relative_to(REPO)))]
        assert kept, f"COPY {source}: .dockerignore drops all of it"


def test_the_build_context_keeps_out_local_state() -> None:
    for path in (
        ".venv/bin/python",
        ".git/config",
        ".notifier-dev/x",
        "k8s/base/x.yaml",
        "tests/x.py",
    ):
        assert ignored(path), path
    for path in ("pyproject.toml", "README.md", "notifier/config.py", "sql/001_initial.sql"):
        assert not ignored(path), path


def test_pyprojects_build_inputs_are_in_the_context() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    readme = project["project"]["readme"]
    assert not ignored(readme)
    for included in project["tool"]["hatch"]["build"]["targets"]["wheel"].get("force-include", {}):
        assert not ignored(included), included


def test_it_runs_as_the_numeric_user_the_pods_require() -> None:
    (user,) = instructions("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit()
    assert int(uid) >= 10000
    receiver = yaml.safe_load((K8S / "base" / "receiver.yaml").read_text())
    security = receiver["spec"]["template"]["spec"]["securityContext"]
    assert (security["runAsUser"], security["runAsGroup"]) == (int(uid), int(gid))


def test_the_default_command_is_the_receiver_the_service_targets() -> None:
    (cmd,) = instructions("CMD")
    argv = yaml.safe_load(cmd)  # the JSON (exec) form
    assert argv[0] == "gunicorn"
    assert argv[-1] == "notifier.wsgi:app"
    assert "--bind=0.0.0.0:8080" in argv
    assert instructions("EXPOSE") == ["8080"]


def test_nothing_is_cached_or_left_behind() -> None:
    assert "PIP_NO_CACHE_DIR=1" in DOCKERFILE
    (install,) = [r for r in instructions("RUN") if "pip install" in r]
    assert "--mount=type=bind,from=build" in install
    assert "--no-index" in install
