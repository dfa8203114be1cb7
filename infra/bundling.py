"""Builds the Lambda layers on this machine: no Docker, pip for the Lambda platform instead.

A layer holds the third-party dependencies of one requirements file, and optionally a package
of this repository, under ``python/`` (Lambda puts ``/opt/python`` on ``sys.path``). Wheels
are chosen for the function's runtime and architecture, not the machine's, so an arm64
Python 3.14 layer builds the same way on an x86 laptop with Python 3.11.

Two layers are built so: ``SHARED_LAYER`` (the ``tally`` package, ``requirements.txt``, the
email templates, the invoice layout and the Cedar policies, on every function) and ``INGEST_LAYER``
(``requirements-ingest.txt``: pyarrow for Parquet FOCUS exports, too big for the functions
that do not read them). The functions' own code (``functions/``) is bundled here too.

Lambda mounts layers at ``/opt`` and the code at ``/var/task`` read-only, so Python cannot cache
the bytecode it compiles there: without ``.pyc`` files in the bundles, every cold start compiles
pydantic, Powertools, ``tally`` and ``api`` from source (``import api.handler``: about 1,300 ms
against 350 ms with bytecode). Bytecode is valid for one Python minor version only, so it is
compiled by an interpreter of the runtime's version (``find_lambda_python``) when this machine
has one; without one the bundles carry sources only, as before.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
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
OBSERVABILITY_REQUIREMENTS = ROOT / "requirements-observability.txt"
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
# Left out of the functions' bundle besides caches: tests and notes run nowhere in Lambda.
FUNCTIONS_SKIPPED = (*SKIPPED_NAMES, "tests", "*.md")

# The interpreter that compiles the bundles, when it is not ``python3.14`` on PATH.
LAMBDA_PYTHON_ENV = "TALLY_LAMBDA_PYTHON"
# Where Lambda puts each bundle: the paths tracebacks name (compileall's ``-d``).
LAYER_SITE_ON_LAMBDA = "/opt/python"
FUNCTIONS_ON_LAMBDA = "/var/task"


@dataclass(frozen=True)
class LayerSpec:
    """What goes into one layer: ``requirements`` installed by pip, ``package`` (a folder
    of this repository) copied next to them when given, and ``folders``: (path in the
    layer, folder of this repository) copied beside ``python/``, which Lambda mounts at
    ``/opt/<path>``."""

    requirements: Path
    package: Path | None = None
    folders: tuple[tuple[str, Path], ...] = ()
    # Globs under python/ that pip installs and nothing in Lambda reads; deleted after it.
    unused: tuple[str, ...] = ()
    # Top-level packages left as sources: no bytecode for them (see SHARED_LAYER).
    source_only: tuple[str, ...] = ()


# The email templates at /opt/templates/email: where tally.email.render looks from
# /opt/python/tally/email/ when TALLY_TEMPLATES_DIR is unset (its docstring). The invoice
# layout and its fonts (about 9 MB) at /opt/templates/invoice, where tally.invoices.pdf looks.
# The Cedar schema, base policies and role catalog at /opt/policies, where
# tally.authz.permissions looks.
# Bytecode: the ingest function carries this layer and pyarrow's, within Lambda's limit for a
# function's code and all its layers (250 MB unzipped, 262,144,000 bytes) by under 3 MB before
# any; bytecode for all of this layer adds about 17 MB. fpdf, fontTools and Pillow (8 MB of it)
# are imported only while a PDF is drawn (the reports function; on a request's path only by
# the invoice template routes: a save checks the logo, a preview renders a sample), never on an
# alert's path: they stay sources.
SHARED_LAYER = LayerSpec(
    requirements=REQUIREMENTS,
    package=PACKAGE_DIR,
    folders=(
        ("templates/email", EMAIL_TEMPLATES_DIR),
        ("templates/invoice", INVOICE_TEMPLATES_DIR),
        ("policies", POLICIES_DIR),
    ),
    source_only=("fpdf", "fontTools", "PIL"),
)
# pyarrow's C++ headers and sources, Cython sources and test suite (10 MB) serve builds of
# extensions and pyarrow's own tests: the room the shared layer's bytecode needs.
INGEST_LAYER = LayerSpec(
    requirements=INGEST_REQUIREMENTS,
    unused=(
        "pyarrow/include", "pyarrow/includes", "pyarrow/src", "pyarrow/tests",
        "pyarrow/conftest.py", "pyarrow/**/*.pyx", "pyarrow/**/*.pxd", "pyarrow/**/*.pxi",
    ),
)  # fmt: skip
# The X-Ray SDK (Powertools' Tracer) and Sentry: every function but the ingest, which has no
# room left for them beside pyarrow (requirements-observability.txt).
OBSERVABILITY_LAYER = LayerSpec(requirements=OBSERVABILITY_REQUIREMENTS)


@dataclass(frozen=True)
class LambdaPython:
    """An interpreter of the runtime's Python version (``PYTHON_VERSION``), which compiles
    the bundles. ``magic`` is its bytecode format (``importlib.util.MAGIC_NUMBER``)."""

    executable: str
    magic: str


_PROBE = (
    "import importlib.util, sys; "
    "print('%d.%d' % sys.version_info[:2], importlib.util.MAGIC_NUMBER.hex())"
)


def find_lambda_python() -> LambdaPython | None:
    """``$TALLY_LAMBDA_PYTHON``, else ``python3.14`` on PATH, else None (no bytecode).

    An interpreter of another version is refused rather than skipped: its bytecode would be
    ignored by the runtime, and one set on purpose should not be dropped in silence.
    """
    configured = os.environ.get(LAMBDA_PYTHON_ENV, "")
    candidate = configured or shutil.which(f"python{PYTHON_VERSION}")
    if not candidate:
        return None
    executable = shutil.which(candidate)
    if executable is None:
        raise RuntimeError(f"{LAMBDA_PYTHON_ENV}={configured} is not an executable")
    # The interpreter is the one the developer named; its arguments are fixed.
    probe = subprocess.run(  # noqa: S603
        [executable, "-I", "-c", _PROBE], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        raise RuntimeError(f"{executable} could not be run to compile the bundles:\n{probe.stderr}")
    version, magic = probe.stdout.split()
    if version != PYTHON_VERSION:
        raise RuntimeError(
            f"{executable} is Python {version}, the Lambda runtime is Python {PYTHON_VERSION}: "
            f"bytecode is version-specific. Point {LAMBDA_PYTHON_ENV} at a Python "
            f"{PYTHON_VERSION} interpreter, or unset it to bundle sources only."
        )
    return LambdaPython(executable=executable, magic=magic)


def compile_bytecode(
    python: LambdaPython, directory: Path, *, runtime_path: str, skip: Iterable[str] = ()
) -> None:
    """Write ``__pycache__/*.cpython-XY.pyc`` for every module under ``directory``.

    ``unchecked-hash`` pycs: the asset zip does not keep modification times, so timestamp
    pycs would be judged stale and ignored; the bundle is never edited in place, so checking
    a source hash on every import would be wasted work. ``runtime_path`` is where Lambda puts
    ``directory``, the path tracebacks name. ``skip``: top-level names left as sources.
    """
    command = [
        python.executable, "-I", "-m", "compileall", "-q", "-j", "0",
        "--invalidation-mode", "unchecked-hash", "-d", runtime_path,
    ]  # fmt: skip
    if skip:
        names = "|".join(re.escape(name) for name in sorted(skip))
        command += ["-x", f"^{re.escape(str(directory))}/({names})(/|\\.py$)"]
    # Fixed arguments and a folder this module built.
    result = subprocess.run(  # noqa: S603
        [*command, str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{python.executable} could not compile {directory} to bytecode:\n"
            f"{result.stdout}{result.stderr}"
        )


def _bytecode_marker(python: LambdaPython | None) -> bytes:
    """What the asset hashes learn of the bytecode: none, or its version and format. The
    interpreter's path is left out, so every machine with a 3.14 gets the same hash."""
    if python is None:
        return b"sources only"
    return f"bytecode {PYTHON_VERSION} {python.magic} unchecked-hash".encode()


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


def layer_asset_hash(spec: LayerSpec, python: LambdaPython | None = None) -> str:
    """Hash of everything that decides the layer's content.

    The asset's source folder is ``layers/``, but the requirements file and the pip options
    live outside it; without them in the hash a dependency bump would not produce a new layer.
    Paths are hashed relative to the repository, so every checkout gets the same hash.
    ``python``: the interpreter that compiles the layer, if any.
    """
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())  # how the layer is built is part of the layer
    digest.update(_bytecode_marker(python))
    digest.update(" ".join(pip_options()).encode())
    digest.update(repr((spec.unused, spec.source_only)).encode())
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


def functions_asset_hash(python: LambdaPython | None = None, source: Path = FUNCTIONS_DIR) -> str:
    """Hash of the functions' bundle: its files (as ``build_functions`` copies them), how it
    is built and whether it holds bytecode."""
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update(_bytecode_marker(python))
    for path in _package_files(source, FUNCTIONS_SKIPPED):
        digest.update(str(path.relative_to(source)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _package_files(directory: Path, skipped: Iterable[str] = SKIPPED_NAMES) -> Iterable[Path]:
    """The files ``shutil.copytree`` copies with ``ignore_patterns(*skipped)``."""
    patterns = tuple(skipped)
    for path in sorted(directory.rglob("*")):
        parts = path.relative_to(directory).parts
        if path.is_file() and not any(fnmatch.fnmatch(p, g) for p in parts for g in patterns):
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


def build_layer(output_dir: Path, spec: LayerSpec, python: LambdaPython | None = None) -> None:
    """pip's install of ``spec`` for Lambda, then its package and folders; compiled by
    ``python`` when given."""
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
    for pattern in spec.unused:
        for path in sorted(site.glob(pattern), reverse=True):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    if spec.package is not None:
        shutil.copytree(
            spec.package, site / spec.package.name, ignore=shutil.ignore_patterns(*SKIPPED_NAMES)
        )
    for target, folder in spec.folders:
        shutil.copytree(folder, output_dir / target, ignore=shutil.ignore_patterns(*SKIPPED_NAMES))
    if python is not None:
        compile_bytecode(python, site, runtime_path=LAYER_SITE_ON_LAMBDA, skip=spec.source_only)


def build_functions(
    output_dir: Path, python: LambdaPython | None = None, source: Path = FUNCTIONS_DIR
) -> None:
    """The functions' code as Lambda runs it from /var/task; compiled by ``python`` if given."""
    shutil.copytree(
        source, output_dir, ignore=shutil.ignore_patterns(*FUNCTIONS_SKIPPED), dirs_exist_ok=True
    )
    if python is not None:
        compile_bytecode(python, output_dir, runtime_path=FUNCTIONS_ON_LAMBDA)


@jsii.implements(ILocalBundling)
class LocalBundling:
    """CDK's local bundling hook: ``build(output_dir)`` here and tell CDK not to try Docker."""

    def __init__(self, build: Callable[[Path], None]) -> None:
        self._build = build

    def try_bundle(self, output_dir: str, *_args: Any, **_options: Any) -> bool:
        self._build(Path(output_dir))
        return True
