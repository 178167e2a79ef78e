"""The wiring of k8s/: settings, Service, MinIO's webhook, the Secret, the network.

Every test runs on what kustomize renders, for the base and for the example overlay.
Schema validation and the security scan are in test_validators.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from notifier.cli import main as notifier_cli
from notifier.config import ENVIRONMENT, ENVIRONMENT_NAMES, Settings, parse_bucket_map
from notifier.web import create_app
from tests.deploy.conftest import REPO, Rendered, pod_labels, pod_spec

REQUIRED = frozenset(v.name for v in ENVIRONMENT if v.required)
NOTIFIER_COMPONENTS = ("receiver", "worker", "db-upgrade", "reconcile", "prune")
WEBHOOK_ENV = re.compile(r"^MINIO_NOTIFY_WEBHOOK_([A-Z_]+?)_([A-Za-z0-9]+)$")
WEBHOOK_KEYS = {"ENABLE", "ENDPOINT", "AUTH_TOKEN", "QUEUE_DIR", "QUEUE_LIMIT", "COMMENT"}
PLACEHOLDER_SECRETS = {
    "NOTIFIER_DATABASE_URL": "postgresql://notifier_app:x@db.invalid:5432/mlops_db",
    "NOTIFIER_S3_ACCESS_KEY": "notifier",
    "NOTIFIER_S3_SECRET_KEY": "placeholder-secret",
    "NOTIFIER_AUTH_TOKEN": "placeholder-token",
}


# --- helpers -------------------------------------------------------------------------


def is_notifier_image(image: str) -> bool:
    """``notifier:0.1.0``, ``registry/x/notifier:0.1.0@sha256:...`` and the like."""
    last = image.split("@")[0].rsplit("/", 1)[-1]
    return last.split(":")[0] == "notifier"


def notifier_containers(rendered: Rendered) -> dict[str, dict[str, Any]]:
    """component -> the notifier container of that component's pods."""
    found = {}
    for workload in rendered.workloads():
        component = pod_labels(workload)["app.kubernetes.io/component"]
        for container in pod_spec(workload)["containers"]:
            if is_notifier_image(container["image"]):
                assert component not in found, f"two notifier containers for {component}"
                found[component] = container
    return found


def env_names(container: dict[str, Any], rendered: Rendered, secret: dict[str, Any]) -> set[str]:
    """Every variable the container gets: env entries and all keys of envFrom sources."""
    names = {entry["name"] for entry in container.get("env", [])}
    for source in container.get("envFrom", []):
        assert "prefix" not in source, "envFrom prefixes would rename notifier's variables"
        if "configMapRef" in source:
            config_map = rendered.one("ConfigMap", source["configMapRef"]["name"])
            names |= set(config_map["data"])
        if "secretRef" in source:
            assert source["secretRef"]["name"] == secret["metadata"]["name"]
            names |= set(secret["stringData"])
    return names


def secret_ref(container: dict[str, Any], name: str) -> tuple[str, str]:
    for entry in container.get("env", []):
        if entry["name"] == name:
            ref = entry["valueFrom"]["secretKeyRef"]
            return ref["name"], ref["key"]
    raise AssertionError(f"{container['name']} does not take {name} from a Secret")


def env_value(container: dict[str, Any], name: str) -> str:
    for entry in container.get("env", []):
        if entry["name"] == name:
            return str(entry["value"])
    raise AssertionError(f"{container['name']} sets no {name}")


def config_env(rendered: Rendered) -> dict[str, str]:
    return dict(rendered.config_map("notifier-config")["data"])


def minio_env(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in values["extraEnvVars"]}


def webhook_targets(values: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """target ID -> {ENABLE: entry, ENDPOINT: entry, ...} from MinIO's env."""
    targets: dict[str, dict[str, dict[str, Any]]] = {}
    for name, entry in minio_env(values).items():
        match = WEBHOOK_ENV.match(name)
        if match:
            key, target = match.groups()
            assert key in WEBHOOK_KEYS, f"unknown webhook setting {name}"
            targets.setdefault(target, {})[key] = entry
    return targets


def service_url(service: dict[str, Any], port: int, path: str) -> str:
    meta = service["metadata"]
    return f"http://{meta['name']}.{meta['namespace']}.svc.cluster.local:{port}{path}"


def container_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        assert port in {p["containerPort"] for p in container["ports"]}
        return port
    by_name = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port in by_name, f"{container['name']} has no port named {port}"
    return int(by_name[port])


def receiver_app(rendered: Rendered) -> Any:
    settings = Settings.from_env({**config_env(rendered), **PLACEHOLDER_SECRETS})
    return create_app(settings, pool=None)  # type: ignore[arg-type]  # routes only


def routes(app: Any) -> dict[str, set[str]]:
    return {rule.rule: set(rule.methods or ()) for rule in app.url_map.iter_rules()}


# --- the settings contract -------------------------------------------------------------


def test_every_component_runs_the_notifier_image(rendered: Rendered) -> None:
    assert set(notifier_containers(rendered)) == set(NOTIFIER_COMPONENTS)


def test_notifier_containers_set_only_variables_notifier_reads(
    rendered: Rendered, secret_template: dict[str, Any]
) -> None:
    for component, container in notifier_containers(rendered).items():
        unknown = env_names(container, rendered, secret_template) - ENVIRONMENT_NAMES
        assert not unknown, f"{component} sets variables notifier never reads: {sorted(unknown)}"


def test_notifier_containers_set_every_required_variable(
    rendered: Rendered, secret_template: dict[str, Any]
) -> None:
    # Every command builds Settings.from_env(), which requires all of them.
    for component, container in notifier_containers(rendered).items():
        missing = REQUIRED - env_names(container, rendered, secret_template)
        assert not missing, f"{component} lacks required variables: {sorted(missing)}"


def test_secret_variables_come_from_the_secret_not_the_config_map(rendered: Rendered) -> None:
    secret_names = {v.name for v in ENVIRONMENT if v.secret}
    assert not secret_names & set(config_env(rendered))
    for component, container in notifier_containers(rendered).items():
        for entry in container.get("env", []):
            if entry["name"] in secret_names:
                assert "secretKeyRef" in entry.get("valueFrom", {}), (component, entry["name"])


def test_the_config_map_is_a_valid_configuration(rendered: Rendered) -> None:
    settings = Settings.from_env({**config_env(rendered), **PLACEHOLDER_SECRETS})
    assert settings.s3.endpoint == config_env(rendered)["NOTIFIER_S3_ENDPOINT"]


def test_the_default_bucket_map_is_the_pipelines(rendered: Rendered) -> None:
    assert parse_bucket_map(config_env(rendered)["NOTIFIER_BUCKET_MAP"]) == parse_bucket_map(
        "raw=ingestion,silver=transformation,models=training,results=evaluation"
    )


def test_every_secret_key_used_is_in_the_template(
    rendered: Rendered, secret_template: dict[str, Any], minio_values: dict[str, Any]
) -> None:
    name = secret_template["metadata"]["name"]
    used = set()
    for workload in rendered.workloads():
        for container in pod_spec(workload)["containers"]:
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] == name:
                    used.add(ref["key"])
    for entry in minio_env(minio_values).values():
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref and ref["name"] == name:
            used.add(ref["key"])
    assert used == set(secret_template["stringData"])


def test_the_image_tag_is_the_project_version(rendered: Rendered) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for component, container in notifier_containers(rendered).items():
        assert (
            container["image"].split("@")[0].endswith(f"/notifier:{version}")
            or container["image"] == f"notifier:{version}"
        ), (component, container["image"])


@pytest.mark.parametrize(
    "component",
    [
        "receiver",
        "worker",
        "db-upgrade",
        "reconcile",
        "prune",
    ],
)
def test_each_command_exists(rendered: Rendered, component: str) -> None:
    argv = notifier_containers(rendered)[component]["command"]
    if argv[0] == "gunicorn":
        module, _, attribute = argv[-1].partition(":")
        assert attribute == "app"
        assert find_spec(module) is not None, f"no module {module}"  # importing builds the app
        return
    assert argv[0] == "notifier"
    result = CliRunner().invoke(notifier_cli, [*argv[1:], "--help"])
    assert result.exit_code == 0, result.output


# --- receiver, Service, probes ----------------------------------------------------------


def test_the_service_reaches_the_receivers_http_port(rendered: Rendered) -> None:
    service = rendered.one("Service", "notifier")
    receiver = rendered.one("Deployment", "notifier-receiver")
    assert service["spec"]["selector"].items() <= pod_labels(receiver).items()
    container = notifier_containers(rendered)["receiver"]
    (port,) = service["spec"]["ports"]
    assert container_port(container, port["targetPort"]) == 8080
    bind = next(a for a in container["command"] if a.startswith("--bind="))
    assert bind == "--bind=0.0.0.0:8080"


def test_probes_hit_healthz_and_readyz_on_the_container_port(rendered: Rendered) -> None:
    container = notifier_containers(rendered)["receiver"]
    app_routes = routes(receiver_app(rendered))
    for probe, path in (
        ("livenessProbe", "/healthz"),
        ("startupProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ):
        get = container[probe]["httpGet"]
        assert get["path"] == path, probe
        assert container_port(container, get["port"]) == 8080, probe
        assert "GET" in app_routes[path], f"notifier serves no GET {path}"


METRICS_PORTS = {8080, 9102}
"""The receiver serves /metrics on its http port, the worker on --metrics-port."""


def test_only_the_receiver_has_ports_and_readiness(rendered: Rendered) -> None:
    for component, container in notifier_containers(rendered).items():
        if component == "worker":
            # The worker's one port is its metrics port.
            assert [p["name"] for p in container["ports"]] == ["metrics"]
            assert "readinessProbe" not in container
        elif component != "receiver":
            assert not {"ports", "readinessProbe"} & set(container), component
        if component not in ("receiver", "worker"):
            assert not {"livenessProbe", "startupProbe"} & set(container), component


def test_the_worker_probes_its_own_heartbeat_file(rendered: Rendered) -> None:
    worker = notifier_containers(rendered)["worker"]
    heartbeat = env_value(worker, "NOTIFIER_WORKER_HEARTBEAT_FILE")
    mounts = [m["mountPath"] for m in worker["volumeMounts"]]
    assert any(heartbeat.startswith(mount.rstrip("/") + "/") for mount in mounts), heartbeat
    for probe in ("startupProbe", "livenessProbe"):
        argv = worker[probe]["exec"]["command"]
        assert argv == ["python", "-m", "notifier.heartbeat", heartbeat], probe
    assert find_spec("notifier.heartbeat") is not None
    # A live worker writes a new deadline every second or so; the probe must not be
    # stricter than the deadline it reads.
    assert worker["livenessProbe"]["periodSeconds"] >= 10


def test_the_receiver_runs_gunicorn_with_the_shipped_configuration(rendered: Rendered) -> None:
    argv = notifier_containers(rendered)["receiver"]["command"]
    assert "--config=python:notifier.web.gunicorn_conf" in argv
    assert find_spec("notifier.web.gunicorn_conf") is not None
    # Flags given after the configuration override it: none may undo its worker class.
    assert not [a for a in argv if a.startswith(("--worker-class", "-k", "--threads"))]


# --- MinIO's webhook ---------------------------------------------------------------------


def test_minio_posts_to_the_service_port_and_notifiers_events_path(
    rendered: Rendered, minio_values: dict[str, Any]
) -> None:
    ((_, target),) = webhook_targets(minio_values).items()
    assert target["ENABLE"]["value"] == "on"
    service = rendered.one("Service", "notifier")
    (port,) = service["spec"]["ports"]
    endpoint = target["ENDPOINT"]["value"]
    assert endpoint == service_url(service, port["port"], "/events")
    assert "POST" in routes(receiver_app(rendered))[urlsplit(endpoint).path]


def test_minio_and_notifier_share_the_auth_token_secret_key(
    rendered: Rendered, minio_values: dict[str, Any]
) -> None:
    ((_, target),) = webhook_targets(minio_values).items()
    minio_ref = target["AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]
    receiver = notifier_containers(rendered)["receiver"]
    assert (minio_ref["name"], minio_ref["key"]) == secret_ref(receiver, "NOTIFIER_AUTH_TOKEN")
    # A secretKeyRef resolves in the pod's own namespace: MinIO must run beside notifier.
    service = rendered.one("Service", "notifier")
    assert service["metadata"]["namespace"] == "mlops"


def test_minio_queues_events_on_a_persistent_volume(minio_values: dict[str, Any]) -> None:
    ((_, target),) = webhook_targets(minio_values).items()
    queue_dir = target["QUEUE_DIR"]["value"]
    assert queue_dir.startswith("/")
    assert target["QUEUE_LIMIT"]["value"] == "100000"
    (mount,) = [m for m in minio_values["extraVolumeMounts"] if m["mountPath"] == queue_dir]
    (volume,) = [v for v in minio_values["extraVolumes"] if v["name"] == mount["name"]]
    claim = volume["persistentVolumeClaim"]["claimName"]
    (pvc,) = [d for d in minio_values["extraDeploy"] if d["metadata"]["name"] == claim]
    assert pvc["kind"] == "PersistentVolumeClaim"
    assert not queue_dir.startswith(minio_values.get("persistence", {}).get("mountPath", "/x/"))


def test_minio_acknowledges_uploads_after_queueing_their_events(
    minio_values: dict[str, Any],
) -> None:
    assert minio_env(minio_values)["MINIO_API_SYNC_EVENTS"]["value"] == "on"


def test_the_setup_job_subscribes_to_minios_target(
    rendered: Rendered, minio_values: dict[str, Any]
) -> None:
    ((target_id, _),) = webhook_targets(minio_values).items()
    (mc,) = pod_spec(rendered.one("Job", "notifier-minio-setup"))["containers"]
    assert env_value(mc, "WEBHOOK_ARN") == f"arn:minio:sqs::{target_id}:webhook"
    assert re.fullmatch(r"quay\.io/minio/mc:RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", mc["image"])


def test_minio_and_notifier_agree_on_the_s3_endpoint_and_buckets(
    rendered: Rendered, minio_values: dict[str, Any]
) -> None:
    endpoint = urlsplit(config_env(rendered)["NOTIFIER_S3_ENDPOINT"])
    assert endpoint.netloc == "minio.mlops.svc.cluster.local:9000"  # release "minio"
    (mc,) = pod_spec(rendered.one("Job", "notifier-minio-setup"))["containers"]
    mc_host = urlsplit(env_value(mc, "MC_HOST_minio"))
    assert (mc_host.scheme, mc_host.hostname, mc_host.port) == (
        endpoint.scheme,
        endpoint.hostname,
        endpoint.port,
    )
    buckets = set(parse_bucket_map(config_env(rendered)["NOTIFIER_BUCKET_MAP"]))
    assert set(minio_values["defaultBuckets"].split(",")) == buckets
    assert minio_values["auth"]["existingSecret"] == secret_ref(mc, "MINIO_ROOT_USER")[0]


# --- the setup Job's script, run against a stand-in mc -----------------------------------

FAKE_MC = """#!/bin/sh
printf '%s\\n' "$*" >> "$MC_LOG"
"""


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_the_setup_script_configures_every_mapped_bucket(
    rendered: Rendered, shell: str, tmp_path: Path
) -> None:
    if shutil.which(shell) is None:
        pytest.fail(f"{shell} is needed to run the setup Job's script")
    (mc,) = pod_spec(rendered.one("Job", "notifier-minio-setup"))["containers"]
    (script,) = mc["args"]
    # Kubernetes expands $(NAME) in args: the script must not use command substitution.
    assert "$(" not in script
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "mc"
    fake.write_text(FAKE_MC)
    fake.chmod(0o755)
    log = tmp_path / "mc.log"
    bucket_map = " raw=ingestion, silver = transformation,models=training,results=evaluation,"
    env = {
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "MC_LOG": str(log),
        "NOTIFIER_BUCKET_MAP": bucket_map,
        "NOTIFIER_S3_ACCESS_KEY": "notifier",
        "NOTIFIER_S3_SECRET_KEY": "s3cr3t-s3cr3t",
        "WEBHOOK_ARN": env_value(mc, "WEBHOOK_ARN"),
    }
    # In the pod, /tmp is the Job's emptyDir; here, the test's own folder.
    script = script.replace("/tmp/", f"{tmp_path}/")
    result = subprocess.run(
        [shell, "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    buckets = ["raw", "silver", "models", "results"]
    assert calls[:3] == [
        f"admin policy create minio notifier-read {tmp_path}/notifier-read.json",
        "admin user add minio notifier s3cr3t-s3cr3t",
        "admin policy attach minio notifier-read --user notifier",
    ]
    arn = env["WEBHOOK_ARN"]
    assert calls[3:] == [
        line
        for b in buckets
        for line in (
            f"event add minio/{b} {arn} --event put,delete --ignore-existing",
            f"event ls minio/{b} {arn}",
        )
    ]
    policy = json.loads((tmp_path / "notifier-read.json").read_text())
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert all(a.startswith(("s3:Get", "s3:List")) for a in statement["Action"])
    assert statement["Resource"] == [
        r for b in buckets for r in (f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*")
    ]


def test_the_setup_script_rejects_a_malformed_bucket_map(
    rendered: Rendered, tmp_path: Path
) -> None:
    (mc,) = pod_spec(rendered.one("Job", "notifier-minio-setup"))["containers"]
    env = {"PATH": os.environ["PATH"], "NOTIFIER_BUCKET_MAP": "my bucket=ingestion"}
    result = subprocess.run(
        ["sh", "-c", mc["args"][0].replace("/tmp/", f"{tmp_path}/")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "bad NOTIFIER_BUCKET_MAP entry" in result.stderr


# --- PostgreSQL -----------------------------------------------------------------------------


def test_database_urls_point_at_the_charts_service_and_database(
    rendered: Rendered, secret_template: dict[str, Any], postgresql_values: dict[str, Any]
) -> None:
    database = postgresql_values["auth"]["database"]
    assert database == "mlops_db"
    roles = (REPO / "sql" / "roles.sql").read_text()
    for key, role in (
        ("database-url", "notifier_app"),
        ("migrator-database-url", "notifier_migrator"),
    ):
        url = urlsplit(secret_template["stringData"][key])
        assert url.scheme == "postgresql"
        assert (url.username, url.hostname, url.port) == (
            role,
            "mlops-postgresql.mlops.svc.cluster.local",
            5432,
        )
        assert url.path == f"/{database}"
        assert f"CREATE ROLE {role} LOGIN" in roles
    containers = notifier_containers(rendered)
    assert (
        secret_ref(containers["db-upgrade"], "NOTIFIER_DATABASE_URL")[1] == "migrator-database-url"
    )
    for component in ("receiver", "worker", "reconcile"):
        assert secret_ref(containers[component], "NOTIFIER_DATABASE_URL")[1] == "database-url"


def test_postgresql_reads_its_password_from_an_existing_secret(
    postgresql_values: dict[str, Any],
) -> None:
    auth = postgresql_values["auth"]
    assert auth["existingSecret"]
    assert not {"password", "postgresPassword"} & set(auth)


# --- network policy ---------------------------------------------------------------------


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
    return True


def policies_for(rendered: Rendered, labels: dict[str, str], kind: str) -> list[dict[str, Any]]:
    return [
        p
        for p in rendered.all("NetworkPolicy")
        if kind in p["spec"]["policyTypes"] and selects(p["spec"]["podSelector"], labels)
    ]


def egress_ports(rendered: Rendered, labels: dict[str, str]) -> set[int]:
    return {
        port["port"]
        for policy in policies_for(rendered, labels, "Egress")
        for rule in policy["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }


def test_every_notifier_pod_is_denied_by_default(rendered: Rendered) -> None:
    for workload in rendered.workloads():
        labels = pod_labels(workload)
        assert policies_for(rendered, labels, "Ingress"), workload["metadata"]["name"]
        assert policies_for(rendered, labels, "Egress"), workload["metadata"]["name"]


def test_only_minio_reaches_the_webhook_port(rendered: Rendered) -> None:
    receiver = rendered.one("Deployment", "notifier-receiver")
    rules = [
        rule
        for policy in policies_for(rendered, pod_labels(receiver), "Ingress")
        for rule in policy["spec"].get("ingress", [])
    ]
    from_pods = [rule for rule in rules if "podSelector" in rule["from"][0]]
    (rule,) = from_pods
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "minio"
    assert [p["port"] for p in rule["ports"]] == [8080]
    for workload in rendered.workloads():
        for policy in policies_for(rendered, pod_labels(workload), "Ingress"):
            for other in policy["spec"].get("ingress", []):
                if other is rule:
                    continue
                # Only Prometheus's namespace, and only to the metrics ports.
                (peer,) = other["from"]
                assert set(peer) == {"namespaceSelector"}, policy["metadata"]["name"]
                assert peer["namespaceSelector"]["matchLabels"] == {
                    "kubernetes.io/metadata.name": "monitoring"
                }
                assert {p["port"] for p in other["ports"]} <= METRICS_PORTS


def test_prometheus_scrapes_a_port_that_serves_metrics(rendered: Rendered) -> None:
    containers = notifier_containers(rendered)
    for component in ("receiver", "worker"):
        workload = rendered.one("Deployment", f"notifier-{component}")
        annotations = workload["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        port = int(annotations["prometheus.io/port"])
        container = containers[component]
        assert port in {p["containerPort"] for p in container["ports"]}
        assert port in METRICS_PORTS
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    assert "--metrics-port=9102" in containers["worker"]["command"]
    assert "GET" in routes(receiver_app(rendered))["/metrics"]


@pytest.mark.parametrize(
    ("component", "ports"),
    [
        ("receiver", {53, 5432}),
        ("worker", {53, 5432, 9000}),
        ("db-upgrade", {53, 5432}),
        ("reconcile", {53, 5432, 9000}),
        ("prune", {53, 5432}),
        ("minio-setup", {53, 9000}),
    ],
)
def test_egress_is_dns_postgresql_and_minio_only(
    rendered: Rendered, component: str, ports: set[int]
) -> None:
    (workload,) = [
        w for w in rendered.workloads() if pod_labels(w)["app.kubernetes.io/component"] == component
    ]
    assert egress_ports(rendered, pod_labels(workload)) == ports
    for policy in policies_for(rendered, pod_labels(workload), "Egress"):
        for rule in policy["spec"].get("egress", []):
            assert rule.get("to"), f"{policy['metadata']['name']} allows any destination"
            for peer in rule["to"]:
                assert "ipBlock" not in peer


# --- hygiene the scanner does not phrase our way ---------------------------------------


def test_pods_and_containers_are_locked_down(rendered: Rendered) -> None:
    for workload in rendered.workloads():
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        assert spec["automountServiceAccountToken"] is False, name
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True, name
        assert pod_security["runAsUser"] >= 10000, name
        assert pod_security["seccompProfile"]["type"] == "RuntimeDefault", name
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in security["capabilities"], name
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][kind]), name
            (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert "emptyDir" in volumes[tmp["name"]], name
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1], image
            assert not image.endswith(":latest"), image


def test_the_service_account_mounts_no_token(rendered: Rendered) -> None:
    account = rendered.one("ServiceAccount", "notifier")
    assert account["automountServiceAccountToken"] is False
    for workload in rendered.workloads():
        assert pod_spec(workload)["serviceAccountName"] == "notifier"


def test_disruption_budgets_and_autoscaler_select_real_pods(rendered: Rendered) -> None:
    for component in ("receiver", "worker"):
        deployment = rendered.one("Deployment", f"notifier-{component}")
        budget = rendered.one("PodDisruptionBudget", f"notifier-{component}")
        assert selects(budget["spec"]["selector"], pod_labels(deployment))
    hpa = rendered.one("HorizontalPodAutoscaler", "notifier-worker")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "notifier-worker",
    }
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    # The HPA owns the worker count; a fixed count in the Deployment would fight it.
    assert "replicas" not in rendered.one("Deployment", "notifier-worker")["spec"]
    receiver = rendered.one("Deployment", "notifier-receiver")
    assert (
        receiver["spec"]["replicas"]
        > rendered.one("PodDisruptionBudget", "notifier-receiver")["spec"]["minAvailable"]
    )


def test_the_secret_template_is_not_rendered(rendered: Rendered) -> None:
    assert not rendered.all("Secret")
