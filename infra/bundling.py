"""Builds the Lambda layers on this machine: no Docker, pip for the Lambda platform instead.

A layer holds the third-party dependencies of one requirements file, and optionally a package
of this repository, under ``python/`` (Lambda puts ``/opt/python`` on ``sys.path``). Wheels
are chosen for the function's runtime and architecture, not the machine's, so an arm64
Python 3.14 layer builds the same way on an x86 laptop with Python 3.11.

Two layers are built so: ``SHARED_LAYER`` (the ``tally`` package, ``requirements.txt``, the
email templates, the invoice layout and the Cedar policies, on every function) and ``INGEST_LAYER``
(``requirements-ingest.txt``: pyarrow for Parquet FOCUS exports, too big for the functions
that do not read them).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

ROOT = Path(__file__).resolve().parent.parent
LAYERS_DIR = ROOT / "layers"
PACKAGE_DIR = LAYERS_DIR / "tally"
REQUIREMENTS = ROOT / "requirements.txt"
INGEST_REQUIREMENTS = ROOT / "requirements-ingest.txt"
FUNCTIONS_DIR = ROOT / "functions"
EMAIL_TEMPLATES_DIR = ROOT / "templates" / "email"
INVOICE_TEMPLATES_DIR = ROOT / "templates" / "invoice"
POLICIES_DIR = ROOT / "policies"

# Lambda's Python 3.14 runs on Amazon Linux 2023 (glibc 2.34). pip does not widen a
# manylinux_2_x platform to older glibc versions by itself, and some wheels (cryptography)
# ship only manylinux_2_28/2_34 builds, so every compatible tag is listed.
PYTHON_VERSION = "3.14"
PLATFORMS = ("manylinux2014_aarch64", *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 35)))

# The Lambda runtime ships boto3 and its dependencies. A second copy in the layer would shadow
# the runtime's botocore (layers come first on sys.path) and could mismatch its boto3.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
# Console scripts and man pages of dependencies: nothing in Lambda runs them.
UNUSED_DIRS = ("bin", "share")
SKIPPED_NAMES = ("__pycache__", "*.pyc", "*.pyo", ".DS_Store")


@dataclass(frozen=True)
class LayerSpec:
    """What goes into one layer: ``requirements`` installed by pip, ``package`` (a folder
    of this repository) copied next to them when given, and ``folders``: (path in the
    layer, folder of this repository) copied beside ``python/``, which Lambda mounts at
    ``/opt/<path>``."""

    requirements: Path
    package: Path | None = None
    folders: tuple[tuple[str, Path], ...] = ()


# The email templates at /opt/templates/email: where tally.email.render looks from
# /opt/python/tally/email/ when TALLY_TEMPLATES_DIR is unset (its docstring). The invoice
# layout and its fonts (about 9 MB) at /opt/templates/invoice, where tally.invoices.pdf looks.
# The Cedar schema, base policies and role catalog at /opt/policies, where
# tally.authz.permissions looks.
SHARED_LAYER = LayerSpec(
    requirements=REQUIREMENTS,
    package=PACKAGE_DIR,
    folders=(
        ("templates/email", EMAIL_TEMPLATES_DIR),
        ("templates/invoice", INVOICE_TEMPLATES_DIR),
        ("policies", POLICIES_DIR),
    ),
)
INGEST_LAYER = LayerSpec(requirements=INGEST_REQUIREMENTS)


def pip_options() -> list[str]:
    """Everything pip is told besides where to install and what: the Lambda platform."""
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    return [
        "--quiet", "--disable-pip-version-check", "--no-compile",
        "--implementation", "cp",
        "--python-version", PYTHON_VERSION,
        "--only-binary=:all:",
        *platforms,
    ]  # fmt: skip


def pip_command(target: Path, requirements: Path) -> list[str]:
    return [
        sys.executable, "-m", "pip", "install",
        *pip_options(),
        "--target", str(target),
        "--requirement", str(requirements),
    ]  # fmt: skip


def layer_asset_hash(spec: LayerSpec) -> str:
    """Hash of everything that decides the layer's content.

    The asset's source folder is ``layers/``, but the requirements file and the pip options
    live outside it; without them in the hash a dependency bump would not produce a new layer.
    Paths are hashed relative to the repository, so every checkout gets the same hash.
    """
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())  # how the layer is built is part of the layer
    digest.update(" ".join(pip_options()).encode())
    digest.update(spec.requirements.read_bytes())
    if spec.package is not None:
        for path in _package_files(spec.package):
            digest.update(str(path.relative_to(spec.package.parent)).encode())
            digest.update(path.read_bytes())
    for target, folder in spec.folders:
        for path in _package_files(folder):
            digest.update(f"{target}/{path.relative_to(folder)}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _package_files(directory: Path) -> Iterable[Path]:
    for path in sorted(directory.rglob("*")):
        skipped = "__pycache__" in path.parts or any(path.match(p) for p in SKIPPED_NAMES)
        if path.is_file() and not skipped:
            yield path


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def remove_runtime_provided(site: Path) -> list[str]:
    """Delete the distributions the Lambda runtime already has, file by file from RECORD."""
    removed = []
    for dist_info in sorted(site.glob("*.dist-info")):
        name = _canonical(dist_info.name.removesuffix(".dist-info").rsplit("-", 1)[0])
        if name not in RUNTIME_PROVIDED:
            continue
        record = dist_info / "RECORD"
        for line in record.read_text().splitlines() if record.exists() else ():
            relative = line.split(",", 1)[0]
            path = (site / relative).resolve()
            if path.is_relative_to(site) and path.is_file():
                path.unlink()
        shutil.rmtree(dist_info, ignore_errors=True)
        removed.append(name)
    # RECORD lists files only; drop the package folders it left empty.
    for directory in sorted(site.iterdir()):
        if directory.is_dir() and not any(path.is_file() for path in directory.rglob("*")):
            shutil.rmtree(directory)
    return removed


def build_layer(output_dir: Path, spec: LayerSpec) -> None:
    site = output_dir / "python"
    site.mkdir(parents=True, exist_ok=True)
    # The command is built from fixed arguments and repository paths, never from input.
    result = subprocess.run(  # noqa: S603
        pip_command(site, spec.requirements), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"pip could not build the Lambda layer from {spec.requirements.name}:\n{result.stderr}"
        )
    remove_runtime_provided(site)
    for name in UNUSED_DIRS:
        shutil.rmtree(site / name, ignore_errors=True)
    if spec.package is not None:
        shutil.copytree(
            spec.package, site / spec.package.name, ignore=shutil.ignore_patterns(*SKIPPED_NAMES)
        )
    for target, folder in spec.folders:
        shutil.copytree(folder, output_dir / target, ignore=shutil.ignore_patterns(*SKIPPED_NAMES))


@jsii.implements(ILocalBundling)
class LocalLayerBundling:
    """CDK's local bundling hook: build the layer here and tell CDK not to try Docker."""

    def __init__(self, spec: LayerSpec) -> None:
        self._spec = spec

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        build_layer(Path(output_dir), self._spec)
        return True
