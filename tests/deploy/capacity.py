"""How many concurrent task pods an environment holds at its largest, from node sizes and pod requests.

The model is Karpenter's own estimate of a node's allocatable resources (the task nodes are
Karpenter's), which is also what the kubelet of the EKS AL2023 AMI reserves:

    allocatable CPU    = vCPUs - kube-reserved CPU (6% of the 1st core, 1% of the 2nd, 0.5% of the
                         3rd and 4th, 0.25% of every further core)
    allocatable memory = memory x (1 - 7.5% VM overhead) - kube-reserved (255 MiB + 11 MiB per pod
                         the node may hold) - the 100 MiB hard eviction threshold
    pods per node      = ENIs x (IPv4 addresses per ENI - 1) + 2   (VPC CNI without prefix delegation)

From what is allocatable, the DaemonSet pods on every node (aws-node, kube-proxy) are taken first;
a pod fits as many times as the scarcer of CPU, memory and pod slots allows. A Karpenter node pool
with a CPU limit of L vCPUs holds at most floor(L / vCPUs) nodes of one type; with several types
allowed, the capacity is the smallest over the types (whichever EC2 has in stock).

Reusable against rendered manifests: `pod_requests(pod_spec)` reads the requests of a rendered pod
(or pod template) spec, `pool_capacity(...)` turns them into concurrent pods. The helpers below
read the same figures from the Terraform env roots and the Helm values files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.deploy import hcl
from tests.deploy.helm_checks import merged_values

KARPENTER_MODULE = hcl.TERRAFORM_DIR / "modules" / "karpenter"

VM_MEMORY_OVERHEAD = 0.075  # Karpenter's default vmMemoryOverheadPercent
EVICTION_HARD_MEMORY_MIB = 100


@dataclass(frozen=True)
class Resources:
    cpu_millis: int
    memory_mib: int

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu_millis + other.cpu_millis, self.memory_mib + other.memory_mib)

    def describe(self) -> str:
        return f"{format_cpu(self.cpu_millis)} CPU / {format_mib(self.memory_mib)}"


# Every node runs these DaemonSets (EKS add-ons vpc-cni and kube-proxy): their requests and pods
# come off each node before task pods. aws-node requests 25m CPU, kube-proxy 100m, neither memory.
DAEMONSETS = Resources(cpu_millis=125, memory_mib=0)
DAEMONSET_PODS = 2


@dataclass(frozen=True)
class InstanceType:
    name: str
    vcpus: int
    memory_gib: int
    enis: int
    ipv4_per_eni: int

    @property
    def max_pods(self) -> int:
        return self.enis * (self.ipv4_per_eni - 1) + 2

    def allocatable(self) -> Resources:
        memory_mib = math.floor(self.memory_gib * 1024 * (1 - VM_MEMORY_OVERHEAD))
        kube_reserved_mib = 255 + 11 * self.max_pods
        return Resources(
            cpu_millis=self.vcpus * 1000 - kube_reserved_cpu_millis(self.vcpus),
            memory_mib=memory_mib - kube_reserved_mib - EVICTION_HARD_MEMORY_MIB,
        )


def kube_reserved_cpu_millis(vcpus: int) -> int:
    """The EKS AMI's (and Karpenter's) CPU reservation ladder, in millicores."""
    ladder = [(1, 0.06), (1, 0.01), (2, 0.005), (math.inf, 0.0025)]
    reserved, remaining = 0.0, vcpus
    for cores, share in ladder:
        taken = min(cores, remaining)
        reserved += taken * 1000 * share
        remaining -= taken
        if remaining <= 0:
            break
    return math.ceil(reserved)


def _family(prefix: str, enis_ips: Mapping[str, tuple[int, int]]) -> dict[str, InstanceType]:
    sizes = {"large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32), "4xlarge": (16, 64)}
    return {
        f"{prefix}.{size}": InstanceType(f"{prefix}.{size}", *sizes[size], *enis_ips[size]) for size in sizes
    }


# vCPUs, memory and ENI limits from `aws ec2 describe-instance-types` (VCpuInfo, MemoryInfo,
# NetworkInfo.MaximumNetworkInterfaces / Ipv4AddressesPerInterface). Add a type here before using it.
_GENERAL_PURPOSE_ENIS = {"large": (3, 10), "xlarge": (4, 15), "2xlarge": (4, 15), "4xlarge": (8, 30)}
INSTANCE_TYPES: dict[str, InstanceType] = {
    **_family("m6i", _GENERAL_PURPOSE_ENIS),
    **_family("m7i", _GENERAL_PURPOSE_ENIS),
    **_family("m6a", _GENERAL_PURPOSE_ENIS),
}


def instance_type(name: str) -> InstanceType:
    try:
        return INSTANCE_TYPES[name]
    except KeyError:
        raise KeyError(
            f"instance type {name!r} is not in tests/deploy/capacity.py INSTANCE_TYPES: add its vCPUs, "
            "memory, ENIs and IPv4 addresses per ENI (aws ec2 describe-instance-types)"
        ) from None


# --- Quantities --------------------------------------------------------------------------------------

_MEMORY_UNITS = {
    "": 1,
    "k": 1000,
    "M": 1000**2,
    "G": 1000**3,
    "T": 1000**4,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}


def parse_cpu(quantity: str | int | float) -> int:
    """A Kubernetes CPU quantity ("1", "500m", 0.5) in millicores, rounded up."""
    text = str(quantity).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m?)", text)
    if not match:
        raise ValueError(f"not a Kubernetes CPU quantity: {quantity!r}")
    value = float(match.group(1))
    return math.ceil(value if match.group(2) else value * 1000)


def parse_memory(quantity: str | int | float) -> int:
    """A Kubernetes memory quantity ("2Gi", "768Mi", "1G", bytes) in MiB, rounded up."""
    text = str(quantity).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|)", text)
    if not match:
        raise ValueError(f"not a Kubernetes memory quantity: {quantity!r}")
    return math.ceil(float(match.group(1)) * _MEMORY_UNITS[match.group(2)] / 1024**2)


def format_cpu(millis: int) -> str:
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_mib(mib: int) -> str:
    if mib % 1024 == 0:
        return f"{mib // 1024} GiB"
    return f"{mib} MiB" if mib < 1024 else f"{mib / 1024:.1f} GiB"


def requests_of(resources: Mapping[str, Any] | None, where: str) -> Resources:
    """The requests of one container's `resources`; both CPU and memory must be requested."""
    requests = (resources or {}).get("requests") or {}
    missing = [key for key in ("cpu", "memory") if key not in requests]
    if missing:
        raise ValueError(f"{where}: no {' or '.join(missing)} request (resources.requests)")
    return Resources(parse_cpu(requests["cpu"]), parse_memory(requests["memory"]))


def pod_requests(pod_spec: Mapping[str, Any], where: str = "pod") -> Resources:
    """What the scheduler reserves for a pod: the sum over its containers, or the largest init
    container if that is more (init containers run one at a time, before the others)."""
    containers = pod_spec.get("containers") or []
    if not containers:
        raise ValueError(f"{where}: the pod spec has no containers")
    total = Resources(0, 0)
    for container in containers:
        total += requests_of(container.get("resources"), f"{where} container {container.get('name')}")
    for init in pod_spec.get("initContainers") or []:
        needed = requests_of(init.get("resources"), f"{where} init container {init.get('name')}")
        total = Resources(max(total.cpu_millis, needed.cpu_millis), max(total.memory_mib, needed.memory_mib))
    return total


# --- Capacity ----------------------------------------------------------------------------------------


def pods_per_node(node: InstanceType, pod: Resources) -> int:
    """Concurrent pods of one size on one node, after the DaemonSets."""
    if pod.cpu_millis <= 0 or pod.memory_mib <= 0:
        raise ValueError(f"pod requests must be positive, got {pod.describe()}")
    free = node.allocatable()
    by_cpu = (free.cpu_millis - DAEMONSETS.cpu_millis) // pod.cpu_millis
    by_memory = (free.memory_mib - DAEMONSETS.memory_mib) // pod.memory_mib
    by_slots = node.max_pods - DAEMONSET_PODS
    return max(0, min(by_cpu, by_memory, by_slots))


@dataclass(frozen=True)
class PoolCapacity:
    instance_type: InstanceType
    nodes: int
    pods_per_node: int
    pod: Resources

    @property
    def pods(self) -> int:
        return self.nodes * self.pods_per_node

    def describe(self) -> str:
        free = self.instance_type.allocatable()
        return (
            f"{self.pods} concurrent task pods: {self.nodes} nodes of type {self.instance_type.name} "
            f"({self.instance_type.vcpus} vCPU / {self.instance_type.memory_gib} GiB; "
            f"{free.describe()} allocatable) x {self.pods_per_node} pods of {self.pod.describe()}"
        )


def pool_capacity(
    instance_types: Iterable[str],
    pod: Resources,
    *,
    max_vcpus: int | None = None,
    max_nodes: int | None = None,
) -> PoolCapacity:
    """The pods a pool holds at its largest, whichever of its instance types it gets.

    Karpenter pools are bounded by `max_vcpus` (NodePool limits.cpu), node groups by `max_nodes`.
    """
    if (max_vcpus is None) == (max_nodes is None):
        raise ValueError("give exactly one of max_vcpus (Karpenter limit) or max_nodes (node group)")
    options = []
    for name in instance_types:
        node = instance_type(name)
        nodes = max_nodes if max_nodes is not None else int(max_vcpus // node.vcpus)
        options.append(PoolCapacity(node, nodes, pods_per_node(node, pod), pod))
    if not options:
        raise ValueError("the pool lists no instance type")
    return min(options, key=lambda option: option.pods)


# --- Reading the repository --------------------------------------------------------------------------


def helm_values(env: str) -> dict[str, Any]:
    """The environment's values merged as Helm merges `-f` files (base, pod template, overlay)."""
    return merged_values(env)


def task_pod_requests(values: Mapping[str, Any]) -> Resources:
    """Requests of a KubernetesExecutor task pod: the chart builds its pod template from
    `workers.kubernetes.resources` (chart 1.20+) or, before that key existed, `workers.resources`."""
    workers = values.get("workers") or {}
    kubernetes = workers.get("kubernetes") or {}
    if (kubernetes.get("resources") or {}).get("requests"):
        return requests_of(kubernetes["resources"], "workers.kubernetes.resources")
    return requests_of(workers.get("resources"), "workers.resources")


def parallelism(values: Mapping[str, Any]) -> int:
    """Airflow's [core] parallelism: the most task instances running at once, i.e. task pods."""
    try:
        return int(values["config"]["core"]["parallelism"])
    except (KeyError, TypeError):
        raise ValueError("config.core.parallelism is not set in the Helm values") from None


@dataclass(frozen=True)
class TaskPool:
    instance_types: list[str]
    max_vcpus: int
    capacity_types: list[str]


def terraform_task_pool(env: str) -> TaskPool:
    """The env root's `module "karpenter"` arguments, or the module's defaults where it sets none."""
    call = hcl.blocks(hcl.TERRAFORM_DIR / "envs" / env / "main.tf", "module").get("karpenter")
    if call is None:
        raise ValueError(
            f'terraform/envs/{env}/main.tf has no module "karpenter": nothing scales the task nodes'
        )
    defaults = hcl.blocks(KARPENTER_MODULE / "variables.tf", "variable")

    def argument(name: str) -> Any:
        return call[name] if name in call else defaults[name]["default"]

    return TaskPool(
        instance_types=list(argument("task_instance_types")),
        max_vcpus=int(argument("task_max_vcpus")),
        capacity_types=list(argument("task_capacity_types")),
    )


@dataclass(frozen=True)
class EnvironmentCapacity:
    env: str
    capacity: PoolCapacity
    parallelism: int

    def describe(self) -> str:
        return f"{self.env} holds {self.capacity.describe()}; Airflow parallelism {self.parallelism}"


def environment_capacity(env: str) -> EnvironmentCapacity:
    values = helm_values(env)
    pool = terraform_task_pool(env)
    capacity = pool_capacity(pool.instance_types, task_pod_requests(values), max_vcpus=pool.max_vcpus)
    return EnvironmentCapacity(env, capacity, parallelism(values))


if __name__ == "__main__":
    for environment in ("dev", "prod"):
        print(environment_capacity(environment).describe())
