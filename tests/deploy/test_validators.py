"""Schema validation and security scanning of everything under k8s/ and the Dockerfile.

kubernetes-validate checks each rendered document against the Kubernetes JSON schemas
(strict: unknown fields fail). checkov runs its standard Kubernetes and Dockerfile
checks; an exception is allowed only as a ``checkov.io/skipN`` annotation or a
``# checkov:skip=`` comment next to what it excuses, with the reason.

Each tool is also shown a broken input first, so a tool that silently checks
nothing cannot turn the suite green.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import K8S, REPO, Rendered, render, run, tool

KUBERNETES_VERSION = "1.37.0"
BROKEN_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
spec:
  replicas: two
  selector:
    matchLabels: {app: broken}
  template:
    metadata:
      labels: {app: broken}
    spec:
      containers:
        - name: broken
          image: busybox:latest
          securityContext:
            privileged: true
"""


def kubernetes_validate(*paths: Path) -> Any:
    return run(
        [tool("kubernetes-validate"), "--strict", "--kubernetes-version", KUBERNETES_VERSION]
        + [str(p) for p in paths]
    )


def checkov(path: Path, framework: str) -> tuple[int, dict[str, Any]]:
    result = run(
        [
            tool("checkov"),
            "--file",
            str(path),
            "--framework",
            framework,
            "--output",
            "json",
            "--skip-download",  # offline: no Prisma Cloud look-ups
            "--quiet",
        ]
    )
    assert result.stdout.strip(), f"checkov printed nothing:\n{result.stderr}"
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one entry per framework
        (report,) = report
    return result.returncode, report


def failures(report: dict[str, Any]) -> list[str]:
    return [
        f"{c['check_id']} {c['check_name']}: {c['resource']}"
        for c in report["results"]["failed_checks"]
    ]


# --- the tools catch a broken input -------------------------------------------------------


def test_kubernetes_validate_rejects_a_broken_manifest(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_DEPLOYMENT)
    assert kubernetes_validate(broken).returncode != 0


def test_checkov_rejects_an_insecure_manifest(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_DEPLOYMENT.replace("replicas: two", "replicas: 2"))
    code, report = checkov(broken, "kubernetes")
    assert code != 0
    assert "CKV_K8S_16" in {c["check_id"] for c in report["results"]["failed_checks"]}


# --- the manifests ------------------------------------------------------------------------


def test_rendered_manifests_match_the_kubernetes_schemas(
    rendered: Rendered, tmp_path: Path
) -> None:
    path = tmp_path / f"{rendered.name}.yaml"
    path.write_text(rendered.text)
    result = kubernetes_validate(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(" passed for resource ") == len(rendered.docs)


def test_the_secret_template_matches_the_schema() -> None:
    result = kubernetes_validate(K8S / "base" / "secret.example.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_helm_values_fragments_match_the_schemas(
    minio_values: dict[str, Any], tmp_path: Path
) -> None:
    """The Kubernetes objects inside the MinIO values: extra manifests, env and volumes."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "minio-values-check"},
        "spec": {
            "containers": [
                {
                    "name": "minio",
                    "image": "{}/{}:{}".format(
                        *(minio_values["image"][k] for k in ("registry", "repository", "tag"))
                    ),
                    "env": minio_values["extraEnvVars"],
                    "volumeMounts": minio_values["extraVolumeMounts"],
                }
            ],
            "volumes": minio_values["extraVolumes"],
        },
    }
    path = tmp_path / "minio-values.yaml"
    path.write_text(yaml.safe_dump_all([pod, *minio_values["extraDeploy"]]))
    result = kubernetes_validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_manifests_pass_checkov(rendered: Rendered, tmp_path: Path) -> None:
    path = tmp_path / f"{rendered.name}.yaml"
    path.write_text(rendered.text)
    code, report = checkov(path, "kubernetes")
    assert not failures(report), "\n".join(failures(report))
    assert code == 0
    assert report["summary"]["passed"] > 100  # it really looked at the workloads


def test_every_checkov_exception_gives_a_reason(rendered: Rendered) -> None:
    for doc in rendered.docs:
        for key, value in (doc["metadata"].get("annotations") or {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                assert re.fullmatch(r"CKV2?_K8S_\d+", check), value
                assert len(reason) > 30, (
                    f"{doc['metadata']['name']}: say why {check} does not apply"
                )
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if "checkov:skip=" in line:
            check, _, reason = line.split("checkov:skip=", 1)[1].partition(":")
            assert re.fullmatch(r"CKV2?_DOCKER_\d+", check), line
            assert len(reason.strip()) > 30, line


# --- the Dockerfile -------------------------------------------------------------------------


def test_the_dockerfile_passes_checkov() -> None:
    code, report = checkov(REPO / "Dockerfile", "dockerfile")
    assert not failures(report), "\n".join(failures(report))
    assert code == 0
    assert report["summary"]["passed"] > 20


def test_the_dockerfile_passes_hadolint() -> None:
    result = run([tool("hadolint"), "--failure-threshold", "style", str(REPO / "Dockerfile")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_rejects_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN pip install flask\n")
    result = run([tool("hadolint"), "--failure-threshold", "style", str(careless)])
    assert result.returncode != 0


@pytest.mark.parametrize("values", ["minio/values-minio.yaml", "postgresql/values-postgresql.yaml"])
def test_values_files_hold_no_password(values: str) -> None:
    text = (K8S / values).read_text()
    for key in ("password", "rootPassword", "postgresPassword", "secretKey"):
        assert not re.search(rf"^\s*{key}\s*:\s*\S", text, re.MULTILINE | re.IGNORECASE), key


def test_the_grafana_dashboard_renders_as_a_valid_labelled_config_map(tmp_path: Path) -> None:
    text = render(K8S / "monitoring")
    path = tmp_path / "monitoring.yaml"
    path.write_text(text)
    result = kubernetes_validate(path)
    assert result.returncode == 0, result.stdout + result.stderr
    (config_map,) = list(yaml.safe_load_all(text))
    assert config_map["kind"] == "ConfigMap"
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["grafana-dashboard.json"])
    assert dashboard["uid"] == "notifier-overview"
    assert all(panel["targets"] for panel in dashboard["panels"])
