"""Checks over rendered Kubernetes manifests that no schema makes.

Each `find_*` function takes the rendered documents (`helm template` output, parsed) and returns a
list of human-readable problems; empty means the check passes. The KubernetesExecutor's pod template
lives inside the `airflow-config` ConfigMap as text, so it is parsed and checked like any pod.
tests/deploy/test_helm_render.py runs them on the real chart and on deliberately broken manifests.
"""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import yaml

Manifest = Mapping[str, Any]
POD_TEMPLATE_KEY = "pod_template_file.yaml"
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


def pod_specs(docs: Iterable[Manifest]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, pod spec) for every workload and for the KubernetesExecutor's pod template."""
    for doc in docs:
        kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
        spec = doc.get("spec") or {}
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
            yield f"{kind}/{name}", spec["template"]["spec"]
        elif kind == "CronJob":
            yield f"{kind}/{name}", spec["jobTemplate"]["spec"]["template"]["spec"]
        elif kind == "Pod":
            yield f"{kind}/{name}", spec
        elif kind == "ConfigMap" and POD_TEMPLATE_KEY in (doc.get("data") or {}):
            template = yaml.safe_load(doc["data"][POD_TEMPLATE_KEY])
            yield f"{kind}/{name}[{POD_TEMPLATE_KEY}]", template["spec"]


def containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            yield f"{field}/{container.get('name')}", container


def find_volume_problems(docs: Iterable[Manifest]) -> list[str]:
    """Duplicate volume names in a pod, duplicate mount paths in a container, mounts of no volume."""
    problems = []
    for where, spec in pod_specs(docs):
        names = [volume["name"] for volume in spec.get("volumes") or []]
        problems += [f"{where}: volume {n!r} defined {c} times" for n, c in Counter(names).items() if c > 1]
        for cname, container in containers(spec):
            mounts = container.get("volumeMounts") or []
            paths = Counter(mount["mountPath"] for mount in mounts)
            problems += [
                f"{where} {cname}: mountPath {p!r} used {c} times (the API server rejects it: must be unique)"
                for p, c in paths.items()
                if c > 1
            ]
            problems += [
                f"{where} {cname}: mounts volume {m['name']!r}, which the pod does not define"
                for m in mounts
                if m["name"] not in names
            ]
    return problems


def referenced_objects(docs: Iterable[Manifest]) -> set[tuple[str, str, str]]:
    """(kind, name, where) of every Secret and ConfigMap a pod reads."""
    found = set()
    for where, spec in pod_specs(docs):
        for volume in spec.get("volumes") or []:
            if "secret" in volume:
                found.add(("Secret", volume["secret"]["secretName"], where))
            if "configMap" in volume:
                found.add(("ConfigMap", volume["configMap"]["name"], where))
            for source in (volume.get("projected") or {}).get("sources") or []:
                if "secret" in source:
                    found.add(("Secret", source["secret"]["name"], where))
                if "configMap" in source:
                    found.add(("ConfigMap", source["configMap"]["name"], where))
        for pull in spec.get("imagePullSecrets") or []:
            found.add(("Secret", pull["name"], where))
        for cname, container in containers(spec):
            for env in container.get("env") or []:
                ref = env.get("valueFrom") or {}
                if "secretKeyRef" in ref:
                    found.add(("Secret", ref["secretKeyRef"]["name"], f"{where} {cname}"))
                if "configMapKeyRef" in ref:
                    found.add(("ConfigMap", ref["configMapKeyRef"]["name"], f"{where} {cname}"))
            for env_from in container.get("envFrom") or []:
                if "secretRef" in env_from:
                    found.add(("Secret", env_from["secretRef"]["name"], f"{where} {cname}"))
                if "configMapRef" in env_from:
                    found.add(("ConfigMap", env_from["configMapRef"]["name"], f"{where} {cname}"))
    return found


def find_missing_references(docs: list[Manifest], created_elsewhere: set[tuple[str, str]]) -> list[str]:
    """Secrets/ConfigMaps a pod reads that neither the chart renders nor our bootstrap creates."""
    rendered = {(doc["kind"], doc["metadata"]["name"]) for doc in docs if doc.get("kind")}
    available = rendered | created_elsewhere
    return sorted(
        f"{where}: reads {kind} {name!r}, which nothing renders or creates"
        for kind, name, where in referenced_objects(docs)
        if (kind, name) not in available
    )


def find_bad_images(docs: Iterable[Manifest], own_repository: str) -> list[str]:
    """Every image is ours (from our ECR repository, with a tag) or pinned by a tag other than latest."""
    problems = []
    for where, spec in pod_specs(docs):
        for cname, container in containers(spec):
            image = str(container.get("image", ""))
            repository, _, tag = image.rpartition(":")
            if "/" in tag or not repository:  # a registry port, not a tag
                repository, tag = image, ""
            if "@sha256:" in image:
                continue
            if not tag or tag == "latest":
                problems.append(f"{where} {cname}: image {image!r} is not pinned by tag")
            elif repository.split("/")[0].endswith(".amazonaws.com") and repository != own_repository:
                problems.append(f"{where} {cname}: image {image!r} is from another ECR repository")
    return problems


def find_missing_requests(docs: Iterable[Manifest]) -> list[str]:
    problems = []
    for where, spec in pod_specs(docs):
        for cname, container in containers(spec):
            requests = (container.get("resources") or {}).get("requests") or {}
            missing = [r for r in ("cpu", "memory") if r not in requests]
            if missing:
                problems.append(f"{where} {cname}: no {'/'.join(missing)} request")
    return problems


def find_missing_irsa(docs: Iterable[Manifest], aws_service_accounts: set[str]) -> list[str]:
    """Every service account whose pods call AWS carries an IRSA role annotation."""
    accounts = {
        doc["metadata"]["name"]: (doc["metadata"].get("annotations") or {})
        for doc in docs
        if doc.get("kind") == "ServiceAccount"
    }
    problems = [f"ServiceAccount {name!r} is not rendered" for name in aws_service_accounts - set(accounts)]
    problems += [
        f"ServiceAccount {name!r} has no {ROLE_ANNOTATION} annotation (its pods call AWS)"
        for name in sorted(aws_service_accounts & set(accounts))
        if not str(accounts[name].get(ROLE_ANNOTATION, "")).startswith("arn:aws:iam::")
    ]
    return problems


def service_accounts_of_pods(docs: Iterable[Manifest]) -> dict[str, str]:
    """where -> service account name of every pod."""
    return {where: spec.get("serviceAccountName", "default") for where, spec in pod_specs(docs)}


_CREDENTIAL_PATTERNS = [
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:[^\s@/'\"]+@"), "a URL with user:password"),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret[_-]?key|fernet[_-]?key|api[_-]?key)\s*[=:]\s*['\"]?(?!['\"]?\s*$)(?!\$\(|\{\{|\$\{)[^\s'\"]{4,}"
        ),
        "a password-like assignment",
    ),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a private key"),
]


def _decoded_secret_texts(docs: Iterable[Manifest]) -> Iterator[tuple[str, str]]:
    for doc in docs:
        if doc.get("kind") != "Secret":
            continue
        for key, value in (doc.get("data") or {}).items():
            yield (
                f"Secret/{doc['metadata']['name']}[{key}]",
                base64.b64decode(value).decode("utf-8", "replace"),
            )
        for key, value in (doc.get("stringData") or {}).items():
            yield f"Secret/{doc['metadata']['name']}[{key}]", str(value)


def find_plaintext_credentials(rendered_text: str, docs: Iterable[Manifest]) -> list[str]:
    """Credentials in the rendered output, including inside Secrets' base64 data."""
    problems = []
    texts = [("rendered output", rendered_text), *_decoded_secret_texts(docs)]
    for where, text in texts:
        for line_no, line in enumerate(text.splitlines(), 1):
            for pattern, what in _CREDENTIAL_PATTERNS:
                if pattern.search(line):
                    problems.append(f"{where} line {line_no}: {what}: {line.strip()[:120]}")
    return problems
