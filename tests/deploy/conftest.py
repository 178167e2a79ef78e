"""Fixtures for the deployment checks: rendered manifests, the values files, the tools.

The manifests are rendered with the real kustomize (``kubectl kustomize``), never by
a re-implementation. The tools come from the deploy virtualenv (tests/deploy/
requirements.txt): ``DEPLOY_TOOLS_BIN`` if set, else ``.venv-deploy/bin``, else PATH.
A missing tool fails the tests that need it, saying how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
OVERLAYS = {"base": K8S / "base", "example": K8S / "overlays" / "example"}
INSTALL_HINT = (
    "python3 -m venv .venv-deploy && .venv-deploy/bin/pip install "
    "-r tests/deploy/requirements.txt -c tests/deploy/constraints.txt"
)


def tool(name: str) -> str:
    """The path of a deploy tool, or a failure that says how to get it."""
    candidates = []
    if os.environ.get("DEPLOY_TOOLS_BIN"):
        candidates.append(Path(os.environ["DEPLOY_TOOLS_BIN"]) / name)
    candidates.append(REPO / ".venv-deploy" / "bin" / name)
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(f"{name} not found; install the deploy tools: {INSTALL_HINT}", pytrace=False)


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, check=False, **kwargs)


def render(directory: Path) -> str:
    result = run([tool("kubectl"), "kustomize", str(directory)])
    assert result.returncode == 0, f"kustomize failed for {directory}:\n{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Rendered:
    """One rendered kustomization: its text and its documents."""

    name: str
    text: str
    docs: tuple[dict[str, Any], ...]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def one(self, kind: str, name: str) -> dict[str, Any]:
        found = [d for d in self.all(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
        return found[0]

    def config_map(self, prefix: str) -> dict[str, Any]:
        """A generated ConfigMap, whose rendered name carries a hash suffix."""
        found = [d for d in self.all("ConfigMap") if d["metadata"]["name"].startswith(prefix)]
        assert len(found) == 1, f"expected one ConfigMap named {prefix}-*"
        return found[0]

    def workloads(self) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] in ("Deployment", "Job", "CronJob")]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return workload["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]  # type: ignore[no-any-return]
    return workload["spec"]["template"]["metadata"]["labels"]  # type: ignore[no-any-return]


@pytest.fixture(scope="session", params=sorted(OVERLAYS))
def rendered(request: pytest.FixtureRequest) -> Rendered:
    """The base and the example overlay, each rendered by kustomize."""
    text = render(OVERLAYS[request.param])
    docs = tuple(d for d in yaml.safe_load_all(text) if d)
    return Rendered(request.param, text, docs)


@pytest.fixture(scope="session")
def minio_values() -> dict[str, Any]:
    return yaml.safe_load((K8S / "minio" / "values-minio.yaml").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def postgresql_values() -> dict[str, Any]:
    return yaml.safe_load((K8S / "postgresql" / "values-postgresql.yaml").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def secret_template() -> dict[str, Any]:
    return yaml.safe_load((K8S / "base" / "secret.example.yaml").read_text())  # type: ignore[no-any-return]
