"""Task-pod requests against node capacity: every environment holds its Airflow parallelism at max scale.

The figures come from the Terraform env roots (Karpenter's task node pool: instance types, CPU
limit) and the Helm values (task pod requests, [core] parallelism); tests/deploy/capacity.py holds
the model, which the render tests can reuse on rendered manifests.
"""

from __future__ import annotations

import re

import pytest

from tests.deploy import capacity, hcl
from tests.deploy.capacity import Resources, instance_type, pod_requests, pods_per_node, pool_capacity
from tests.deploy.helm_checks import deep_merge

README = hcl.TERRAFORM_DIR / "README.md"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_holds_its_parallelism_at_max_scale(env: str) -> None:
    result = capacity.environment_capacity(env)
    print(result.describe())
    assert result.capacity.pods >= result.parallelism, (
        f"{env}: Airflow may run {result.parallelism} task pods at once but the nodes hold only "
        f"{result.capacity.describe()}; raise task_max_vcpus in terraform/envs/{env}/main.tf or lower "
        f"config.core.parallelism in helm/values-{env}.yaml to {result.capacity.pods}"
    )


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_readme_states_the_current_capacity(env: str) -> None:
    """terraform/README.md's figures are the ones the model computes today, not last month's."""
    result = capacity.environment_capacity(env).capacity
    text = README.read_text()
    section = text.split("## Capacity", 1)[1].split("\n## ", 1)[0]
    row = next((line for line in section.splitlines() if line.startswith(f"| {env} |")), None)
    assert row is not None, f"terraform/README.md, Capacity: no row for {env}"
    expected = [
        str(result.pods),
        f"{result.nodes} x {result.instance_type.name}",
        str(result.pods_per_node),
        result.pod.describe(),
    ]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    for figure in expected:
        assert figure in cells, f"terraform/README.md, Capacity, {env}: {figure!r} not in {cells}"


# --- The model, on figures worked out by hand ----------------------------------------------------------


def test_allocatable_follows_the_eks_reservations() -> None:
    xlarge = instance_type("m6i.xlarge")
    assert xlarge.max_pods == 4 * 14 + 2 == 58
    # CPU: 4000m - (60 + 10 + 5 + 5)m; memory: 16 GiB x 0.925 - (255 + 11 x 58) - 100 MiB.
    assert xlarge.allocatable() == Resources(3920, 15155 - 893 - 100)
    four_xlarge = instance_type("m6i.4xlarge")
    assert four_xlarge.allocatable().cpu_millis == 16000 - (60 + 10 + 5 + 5 + 12 * 2.5)


def test_pods_per_node_is_bound_by_the_scarcer_resource() -> None:
    xlarge = instance_type("m6i.xlarge")
    # (3920 - 125) // 1000 = 3 by CPU, 14162 // 2048 = 6 by memory.
    assert pods_per_node(xlarge, Resources(1000, 2048)) == 3
    # 3795 // 100 = 37 by CPU, 14162 // 1024 = 13 by memory.
    assert pods_per_node(xlarge, Resources(100, 1024)) == 13
    # 3795 // 10 = 379 by CPU, 14162 // 32 = 442 by memory, but only 58 - 2 pod slots.
    assert pods_per_node(xlarge, Resources(10, 32)) == 56
    assert pods_per_node(xlarge, Resources(8000, 1024)) == 0


def test_pool_capacity_takes_the_worst_instance_type_and_the_cpu_limit() -> None:
    pod = Resources(1000, 2048)
    # 80 vCPUs: 5 x 4xlarge (15 pods each) or 20 x xlarge (3 each): the smaller, 60, is the guarantee.
    mixed = pool_capacity(["m6i.4xlarge", "m6i.xlarge"], pod, max_vcpus=80)
    assert (mixed.instance_type.name, mixed.nodes, mixed.pods) == ("m6i.xlarge", 20, 60)
    # A limit that is no multiple of the node size buys no partial node.
    assert pool_capacity(["m6i.4xlarge"], pod, max_vcpus=79).nodes == 4
    # A managed node group counts nodes, not vCPUs: today's prod group, 6 x m6i.xlarge, holds 18.
    assert pool_capacity(["m6i.xlarge"], pod, max_nodes=6).pods == 18
    with pytest.raises(ValueError, match="exactly one"):
        pool_capacity(["m6i.xlarge"], pod)
    with pytest.raises(KeyError, match="INSTANCE_TYPES"):
        pool_capacity(["x9z.huge"], pod, max_vcpus=8)


def test_quantities() -> None:
    assert [capacity.parse_cpu(q) for q in ("1", "500m", 0.25, "2.5", 2)] == [1000, 500, 250, 2500, 2000]
    assert [capacity.parse_memory(q) for q in ("2Gi", "768Mi", "1G", "1048576", "512Ki")] == [
        2048,
        768,
        954,
        1,
        1,
    ]
    for bad in ("1 CPU", "-1", "1Gi"):
        with pytest.raises(ValueError, match="not a Kubernetes CPU quantity"):
            capacity.parse_cpu(bad)
    for bad in ("2GB", "1kb", "-5Mi"):
        with pytest.raises(ValueError, match="not a Kubernetes memory quantity"):
            capacity.parse_memory(bad)


def test_pod_requests_of_a_rendered_pod_spec() -> None:
    spec = {
        "initContainers": [{"name": "wait", "resources": {"requests": {"cpu": "2", "memory": "64Mi"}}}],
        "containers": [
            {"name": "base", "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}},
            {"name": "sidecar", "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}},
        ],
    }
    # Containers add up (1010m, 2080 MiB); the init container's 2 CPUs are larger and win.
    assert pod_requests(spec) == Resources(2000, 2080)
    spec["containers"][1]["resources"] = {"limits": {"memory": "64Mi"}}
    with pytest.raises(ValueError, match="container sidecar: no cpu or memory request"):
        pod_requests(spec, "pod template")


def test_task_pod_requests_prefer_the_kubernetes_executor_key() -> None:
    old_layout = {"workers": {"resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}}
    assert capacity.task_pod_requests(old_layout) == Resources(1000, 2048)
    new_layout = {
        "workers": {
            "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
            "kubernetes": {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}},
        }
    }
    assert capacity.task_pod_requests(new_layout) == Resources(500, 1024)
    with pytest.raises(ValueError, match="workers.resources"):
        capacity.task_pod_requests({"workers": {}})


def test_values_merge_like_helm() -> None:
    merged = deep_merge(
        {"config": {"core": {"parallelism": 32, "load_examples": "False"}}, "volumes": [1, 2]},
        {"config": {"core": {"parallelism": 64}}, "volumes": [3]},
    )
    assert merged == {"config": {"core": {"parallelism": 64, "load_examples": "False"}}, "volumes": [3]}
    assert capacity.parallelism(merged) == 64
    with pytest.raises(ValueError, match="parallelism"):
        capacity.parallelism({"config": {}})


def test_every_task_instance_type_is_known_to_the_model() -> None:
    """A type the model does not know would make the capacity figures a guess."""
    defaults = hcl.blocks(capacity.KARPENTER_MODULE / "variables.tf", "variable")
    types = set(defaults["task_instance_types"]["default"])
    for env in ("dev", "prod"):
        pool = capacity.terraform_task_pool(env)
        types |= set(pool.instance_types)
        sizes = {(instance_type(t).vcpus, instance_type(t).memory_gib) for t in pool.instance_types}
        assert len(sizes) == 1, f"{env}: task instance types of different sizes {pool.instance_types}"
    for name in types:
        assert re.fullmatch(r"[a-z0-9]+\.[0-9]*x?large", name), name
        instance_type(name)
