"""The local bundling of the layers and the functions' code: pip for the Lambda platform,
without the runtime's boto3; bytecode by an interpreter of the runtime's version; asset hashes
that change whenever a bundle would."""

from __future__ import annotations

import importlib.util
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk.assertions import Annotations, Match, Template

from infra import bundling
from infra.bundling import LayerSpec
from infra.constructs import lambda_factory
from infra.constructs.lambda_factory import FunctionRuntime, dependencies_layer


def test_pip_targets_the_lambda_platform(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    command = bundling.pip_command(tmp_path, requirements)
    assert command[command.index("--python-version") + 1] == "3.14"
    assert command[command.index("--target") + 1] == str(tmp_path)
    assert command[command.index("--requirement") + 1] == str(requirements)
    assert "--only-binary=:all:" in command
    platforms = {command[i + 1] for i, arg in enumerate(command) if arg == "--platform"}
    assert {"manylinux2014_aarch64", "manylinux_2_34_aarch64"} <= platforms
    assert not any("x86_64" in platform for platform in platforms)


def _fake_dist(site: Path, name: str, version: str, files: list[str]) -> None:
    dist_info = site / f"{name}-{version}.dist-info"
    dist_info.mkdir(parents=True)
    for relative in files:
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    record = [*files, f"{dist_info.name}/RECORD"]
    (dist_info / "RECORD").write_text("\n".join(f"{f},," for f in record))


def test_runtime_provided_packages_are_removed(tmp_path: Path) -> None:
    _fake_dist(tmp_path, "botocore", "1.44.8", ["botocore/__init__.py", "botocore/data/x.json"])
    _fake_dist(tmp_path, "python_dateutil", "2.9.0", ["dateutil/__init__.py"])
    _fake_dist(tmp_path, "pynamodb", "6.1.0", ["pynamodb/__init__.py"])

    removed = bundling.remove_runtime_provided(tmp_path)

    assert sorted(removed) == ["botocore", "python-dateutil"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pynamodb", "pynamodb-6.1.0.dist-info"]


def test_requirements_are_part_of_the_asset_hash(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.0\n")
    spec = LayerSpec(requirements=requirements)
    before = bundling.layer_asset_hash(spec)
    requirements.write_text("pydantic==2.1\n")
    assert bundling.layer_asset_hash(spec) != before


def test_the_package_is_part_of_the_asset_hash(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    package = tmp_path / "tally"
    package.mkdir()
    (package / "__init__.py").write_text("")
    spec = LayerSpec(requirements=requirements, package=package)
    before = bundling.layer_asset_hash(spec)
    assert bundling.layer_asset_hash(LayerSpec(requirements=requirements)) != before
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_text("cache")
    assert bundling.layer_asset_hash(spec) == before  # caches do not count
    (package / "tables.py").write_text("X = 1\n")
    assert bundling.layer_asset_hash(spec) != before


def test_the_asset_hash_does_not_depend_on_the_checkout(tmp_path: Path) -> None:
    hashes = set()
    for checkout in ("a", "b"):
        (tmp_path / checkout / "tally").mkdir(parents=True)
        (tmp_path / checkout / "tally" / "__init__.py").write_text("")
        (tmp_path / checkout / "requirements.txt").write_text("pydantic==2.0\n")
        spec = LayerSpec(tmp_path / checkout / "requirements.txt", tmp_path / checkout / "tally")
        hashes.add(bundling.layer_asset_hash(spec))
    assert len(hashes) == 1


def test_each_layer_has_its_own_requirements() -> None:
    assert bundling.SHARED_LAYER.requirements.name == "requirements.txt"
    assert bundling.SHARED_LAYER.package == bundling.PACKAGE_DIR
    assert bundling.INGEST_LAYER.requirements.name == "requirements-ingest.txt"
    assert bundling.INGEST_LAYER.package is None  # tally is in the shared layer already
    assert bundling.OBSERVABILITY_LAYER.requirements.name == "requirements-observability.txt"
    assert bundling.OBSERVABILITY_LAYER.package is None
    hashes = {
        bundling.layer_asset_hash(spec)
        for spec in (bundling.SHARED_LAYER, bundling.INGEST_LAYER, bundling.OBSERVABILITY_LAYER)
    }
    assert len(hashes) == 3


def test_the_observability_layer_holds_what_tally_observability_loads() -> None:
    # Powertools' Tracer imports aws_xray_sdk when built; Sentry is tally.observability's.
    pinned = {
        line.split("==")[0]
        for line in bundling.OBSERVABILITY_LAYER.requirements.read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert pinned == {"aws-xray-sdk", "sentry-sdk"}
    shared = bundling.SHARED_LAYER.requirements.read_text()
    assert "aws-xray-sdk" not in shared and "sentry-sdk" not in shared


@pytest.mark.parametrize("with_package", [True, False])
def test_build_layer_installs_the_spec_requirements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_package: bool
) -> None:
    package = tmp_path / "src" / "tally"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    requirements = tmp_path / "requirements-x.txt"
    commands: list[list[str]] = []

    def fake_pip(command: list[str], **_kwargs: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", fake_pip)
    spec = LayerSpec(requirements=requirements, package=package if with_package else None)
    bundling.build_layer(tmp_path / "out", spec)

    (command,) = commands
    assert command[command.index("--requirement") + 1] == str(requirements)
    assert command[command.index("--target") + 1] == str(tmp_path / "out" / "python")
    assert (tmp_path / "out" / "python" / "tally" / "__init__.py").exists() == with_package


def test_folders_are_part_of_the_asset_hash(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "a.html").write_text("<p>one</p>")
    spec = LayerSpec(requirements=requirements, folders=(("templates/email", templates),))
    before = bundling.layer_asset_hash(spec)
    assert bundling.layer_asset_hash(LayerSpec(requirements=requirements)) != before
    (templates / "a.html").write_text("<p>two</p>")
    assert bundling.layer_asset_hash(spec) != before
    moved = LayerSpec(requirements=requirements, folders=(("templates/mail", templates),))
    assert bundling.layer_asset_hash(moved) != bundling.layer_asset_hash(spec)


def test_the_shared_layer_carries_the_email_templates_where_render_finds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tally.email import render

    monkeypatch.setattr(
        bundling.subprocess,
        "run",
        lambda command, **_: subprocess.CompletedProcess(command, 0, "", ""),
    )
    layer = tmp_path / "opt"  # Lambda mounts the layer at /opt
    bundling.build_layer(layer, bundling.SHARED_LAYER)

    # render finds its templates three folders above its module: from the layer's copy of
    # tally/email/render.py that is <layer>/templates/email, with TALLY_TEMPLATES_DIR unset.
    in_layer = layer / "python" / "tally" / "email" / "render.py"
    assert in_layer.exists()
    found = in_layer.resolve().parents[3] / "templates" / "email"
    assert found == layer / "templates" / "email"
    assert render.DEFAULT_TEMPLATES_DIR.relative_to(bundling.ROOT) == Path("templates/email")
    shipped = sorted(p.name for p in found.iterdir())
    assert shipped == sorted(p.name for p in bundling.EMAIL_TEMPLATES_DIR.iterdir())
    assert {"threshold.html", "threshold.txt", "digest.html", "digest.txt"} <= set(shipped)
    # The invoice layout and fonts, where tally.invoices.pdf looks from the layer's copy.
    from tally.invoices import pdf

    in_layer = layer / "python" / "tally" / "invoices" / "pdf.py"
    invoice_dir = in_layer.resolve().parents[3] / "templates" / "invoice"
    assert pdf.DEFAULT_LAYOUT_DIR.relative_to(bundling.ROOT) == Path("templates/invoice")
    assert (invoice_dir / "layout.json").is_file()
    assert (invoice_dir / "fonts" / "DejaVuSans.ttf").is_file()
    assert (invoice_dir / "fonts" / "LICENSES.md").is_file()


def test_the_shared_layer_carries_the_policies_where_the_authorizer_finds_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tally.authz import permissions

    monkeypatch.setattr(
        bundling.subprocess,
        "run",
        lambda command, **_: subprocess.CompletedProcess(command, 0, "", ""),
    )
    layer = tmp_path / "opt"
    bundling.build_layer(layer, bundling.SHARED_LAYER)

    # tally.authz.permissions reads policies/ three folders above its module.
    in_layer = layer / "python" / "tally" / "authz" / "permissions.py"
    assert in_layer.exists()
    found = in_layer.resolve().parents[3] / "policies"
    assert found == layer / "policies"
    assert permissions.POLICIES_DIR.relative_to(bundling.ROOT) == Path("policies")
    shipped = {p.name for p in found.iterdir()}
    assert {"roles.json", "schema.cedarschema", "base.cedar"} <= shipped
    assert (found / "roles.json").read_bytes() == permissions.ROLES_FILE.read_bytes()


def test_cedarpy_ships_in_the_shared_layer() -> None:
    pins = [
        line for line in bundling.REQUIREMENTS.read_text().splitlines() if not line.startswith("#")
    ]
    assert "cedarpy==4.12.2" in pins


# Bytecode. The runtime's Python (3.14) is not on this machine, so these tests let the current
# interpreter stand in for it: PYTHON_VERSION patched to its version, TALLY_LAMBDA_PYTHON to it.
VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"
PYC = f"cpython-{sys.version_info[0]}{sys.version_info[1]}.pyc"
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


@pytest.fixture
def this_python(monkeypatch: pytest.MonkeyPatch) -> bundling.LambdaPython:
    monkeypatch.setattr(bundling, "PYTHON_VERSION", VERSION)
    monkeypatch.setenv(bundling.LAMBDA_PYTHON_ENV, sys.executable)
    python = bundling.find_lambda_python()
    assert python is not None
    assert python.magic == importlib.util.MAGIC_NUMBER.hex()
    return python


@pytest.fixture
def no_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither TALLY_LAMBDA_PYTHON (the root conftest clears it) nor python3.14 on PATH."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _fake_pip_installing(monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> list[list[str]]:
    """pip replaced by writing ``files`` under its --target; every other command runs."""
    real_run = subprocess.run
    commands: list[list[str]] = []

    def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        if command[1:4] != ["-m", "pip", "install"]:
            return real_run(command, **kwargs)  # type: ignore[no-any-return]
        site = Path(command[command.index("--target") + 1])
        for relative, text in files.items():
            (site / relative).parent.mkdir(parents=True, exist_ok=True)
            (site / relative).write_text(text)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", run)
    return commands


def _pyc_flags(pyc: Path) -> tuple[bytes, int]:
    header = pyc.read_bytes()[:16]
    return header[:4], int.from_bytes(header[4:8], "little")


def _run_from(path: Path, code: str) -> str:
    """``code`` in a fresh interpreter importing from ``path`` only, writing no bytecode."""
    env = {"PYTHONPATH": str(path), "PYTHONDONTWRITEBYTECODE": "1", "PATH": os.environ["PATH"]}
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def _small_layer(tmp_path: Path) -> LayerSpec:
    package = tmp_path / "src" / "tinypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("VALUE = 1\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("")
    return LayerSpec(
        requirements=requirements,
        package=package,
        unused=("thirdparty/tests", "thirdparty/**/*.pyx"),
        source_only=("pdfish",),
    )


THIRD_PARTY = {
    "thirdparty/__init__.py": "from thirdparty import core\n",
    "thirdparty/core.py": "NAME = 'core'\n",
    "thirdparty/lib.pyx": "# cython source\n",
    "thirdparty/sub/fast.pyx": "# cython source\n",
    "thirdparty/tests/test_core.py": "def test(): pass\n",
    "pdfish/__init__.py": "X = 1\n",
    "pdfish.py.txt": "",
}


def test_the_layer_is_compiled_to_unchecked_bytecode_that_imports_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, this_python: bundling.LambdaPython
) -> None:
    _fake_pip_installing(monkeypatch, THIRD_PARTY)
    layer = tmp_path / "opt"

    bundling.build_layer(layer, _small_layer(tmp_path), this_python)

    site = layer / "python"
    pyc = site / "tinypkg" / "__pycache__" / f"mod.{PYC}"
    magic, flags = _pyc_flags(pyc)
    assert magic == importlib.util.MAGIC_NUMBER
    assert flags == UNCHECKED_HASH
    # Tracebacks name the file where Lambda has it, not the build folder.
    assert marshal.loads(pyc.read_bytes()[16:]).co_filename == "/opt/python/tinypkg/mod.py"
    assert (site / "thirdparty" / "__pycache__" / f"core.{PYC}").is_file()
    # Unused files are gone, source-only packages have no bytecode and still import.
    assert not (site / "thirdparty" / "tests").exists()
    assert not list(site.rglob("*.pyx"))
    assert not (site / "pdfish" / "__pycache__").exists()
    # An unchecked pyc is used as it is: the source changed after the build goes unread.
    (site / "tinypkg" / "mod.py").write_text("VALUE = 2\n")
    shown = _run_from(site, "import tinypkg.mod, pdfish, thirdparty; print(tinypkg.mod.VALUE)")
    assert shown == "1"
    assert not (site / "pdfish" / "__pycache__").exists()  # nothing written at import


def test_the_functions_bundle_is_compiled_without_tests_notes_or_caches(
    tmp_path: Path, this_python: bundling.LambdaPython
) -> None:
    source = tmp_path / "functions"
    for relative, text in {
        "api/__init__.py": "",
        "api/handler.py": "ANSWER = 42\n",
        "api/README.md": "notes",
        "api/tests/test_handler.py": "",
        "api/__pycache__/handler.cpython-311.pyc": "stale",
    }.items():
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text(text)
    task = tmp_path / "task"

    bundling.build_functions(task, this_python, source=source)

    files = {str(p.relative_to(task)) for p in task.rglob("*") if p.is_file()}
    assert files == {
        "api/__init__.py",
        "api/handler.py",
        f"api/__pycache__/__init__.{PYC}",
        f"api/__pycache__/handler.{PYC}",
    }
    pyc = task / "api" / "__pycache__" / f"handler.{PYC}"
    assert _pyc_flags(pyc) == (importlib.util.MAGIC_NUMBER, UNCHECKED_HASH)
    assert marshal.loads(pyc.read_bytes()[16:]).co_filename == "/var/task/api/handler.py"
    (task / "api" / "handler.py").write_text("ANSWER = 0\n")
    assert _run_from(task, "import api.handler; print(api.handler.ANSWER)") == "42"


def test_without_an_interpreter_the_bundles_hold_sources_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_python: None
) -> None:
    assert bundling.find_lambda_python() is None
    _fake_pip_installing(monkeypatch, THIRD_PARTY)
    bundling.build_layer(tmp_path / "opt", _small_layer(tmp_path), bundling.find_lambda_python())
    (tmp_path / "functions" / "api").mkdir(parents=True)
    (tmp_path / "functions" / "api" / "handler.py").write_text("")
    bundling.build_functions(tmp_path / "task", None, source=tmp_path / "functions")
    assert (tmp_path / "opt" / "python" / "tinypkg" / "mod.py").is_file()
    assert not list((tmp_path / "opt").rglob("*.pyc"))
    assert not list((tmp_path / "task").rglob("*.pyc"))


def test_an_interpreter_of_another_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert bundling.PYTHON_VERSION == "3.14" != VERSION
    monkeypatch.setenv(bundling.LAMBDA_PYTHON_ENV, sys.executable)
    with pytest.raises(
        RuntimeError, match=rf"is Python {VERSION}, the Lambda runtime is Python 3\.14"
    ):
        bundling.find_lambda_python()


def test_a_configured_interpreter_that_does_not_exist_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(bundling.LAMBDA_PYTHON_ENV, str(tmp_path / "python3.14"))
    with pytest.raises(RuntimeError, match=r"TALLY_LAMBDA_PYTHON=.* is not an executable"):
        bundling.find_lambda_python()


def test_python3_14_on_path_is_found_without_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / f"python{VERSION}").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(bundling, "PYTHON_VERSION", VERSION)
    python = bundling.find_lambda_python()
    assert python is not None
    assert python.executable == str(bin_dir / f"python{VERSION}")


def test_bytecode_is_part_of_the_asset_hashes_but_not_the_interpreter_path(
    tmp_path: Path,
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.0\n")
    spec = LayerSpec(requirements=requirements)
    (tmp_path / "functions" / "api").mkdir(parents=True)
    (tmp_path / "functions" / "api" / "handler.py").write_text("")
    here = bundling.LambdaPython("/usr/bin/python3.14", "2b0e0d0a")
    there = bundling.LambdaPython("/opt/python3.14/bin/python3", "2b0e0d0a")
    newer_format = bundling.LambdaPython("/usr/bin/python3.14", "2c0e0d0a")
    for asset_hash in (
        lambda python: bundling.layer_asset_hash(spec, python),
        lambda python: bundling.functions_asset_hash(python, source=tmp_path / "functions"),
    ):
        assert asset_hash(None) != asset_hash(here)
        assert asset_hash(here) == asset_hash(there)
        assert asset_hash(here) != asset_hash(newer_format)


def test_the_functions_hash_follows_the_files_the_bundle_holds(tmp_path: Path) -> None:
    source = tmp_path / "functions"
    (source / "api" / "tests").mkdir(parents=True)
    (source / "api" / "handler.py").write_text("")
    before = bundling.functions_asset_hash(source=source)
    (source / "api" / "tests" / "test_x.py").write_text("x")
    (source / "api" / "NOTES.md").write_text("x")
    (source / "api" / "__pycache__").mkdir()
    (source / "api" / "__pycache__" / "handler.cpython-311.pyc").write_text("x")
    assert bundling.functions_asset_hash(source=source) == before
    (source / "api" / "handler.py").write_text("X = 1\n")
    assert bundling.functions_asset_hash(source=source) != before


def test_the_ingest_layer_drops_what_pyarrow_needs_only_to_build_and_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_pip_installing(
        monkeypatch,
        {
            "pyarrow/__init__.py": "",
            "pyarrow/lib.so": "",
            "pyarrow/lib.pyx": "",
            "pyarrow/lib.pxd": "",
            "pyarrow/array.pxi": "",
            "pyarrow/includes/libarrow.pxd": "",
            "pyarrow/include/arrow/api.h": "",
            "pyarrow/src/arrow/python/api.h": "",
            "pyarrow/tests/test_array.py": "",
            "pyarrow/conftest.py": "",
            "pyarrow/parquet/core.py": "",
            "pyarrow/vendored/version.py": "",
        },
    )
    bundling.build_layer(tmp_path / "opt", bundling.INGEST_LAYER)
    site = tmp_path / "opt" / "python"
    left = sorted(
        str(p.relative_to(site)) for p in site.rglob("*") if not p.is_dir() or not any(p.iterdir())
    )
    assert left == [
        "pyarrow/__init__.py",
        "pyarrow/lib.so",
        "pyarrow/parquet/core.py",
        "pyarrow/vendored/version.py",
    ]


def test_only_pdf_drawing_packages_stay_sources_in_the_shared_layer() -> None:
    # The exception exists for Lambda's size limit (see SHARED_LAYER): nothing that a request
    # or an alert imports may join it.
    assert bundling.SHARED_LAYER.source_only == ("fpdf", "fontTools", "PIL")
    lazy = {"fpdf", "fontTools", "PIL"}
    modules = [*bundling.PACKAGE_DIR.rglob("*.py"), *bundling.FUNCTIONS_DIR.rglob("*.py")]
    for path in sorted(modules):
        for line in path.read_text().splitlines():
            if line.startswith(("import ", "from ")):  # module level, run at import
                assert line.split()[1].split(".")[0] not in lazy, f"{path}: {line}"


def _stack_with_bundles() -> Stack:
    """The functions' code and two layers, as the stack has them (bundling skipped)."""
    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Bundles")
    runtime = FunctionRuntime(stack, "Runtime", log_retention_days=7, environment={})
    runtime.new_function(
        stack,
        "Api",
        handler="api.handler.handler",
        description="test",
        service="api",
        memory_size=128,
        timeout=Duration.seconds(3),
    )
    dependencies_layer(stack, "Parquet", spec=bundling.INGEST_LAYER, description="pyarrow")
    return stack


def _bytecode_warnings(stack: Stack) -> list[str]:
    found = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    return [
        str(w.entry.data) for w in found if lambda_factory.NO_BYTECODE_WARNING in str(w.entry.data)
    ]


def test_without_an_interpreter_the_stack_warns_once(no_python: None) -> None:
    (warning,) = _bytecode_warnings(_stack_with_bundles())
    assert "Python 3.14" in warning
    assert bundling.LAMBDA_PYTHON_ENV in warning


def test_with_an_interpreter_the_stack_does_not_warn_and_its_assets_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, this_python: bundling.LambdaPython
) -> None:
    compiled = _stack_with_bundles()
    assert _bytecode_warnings(compiled) == []
    monkeypatch.delenv(bundling.LAMBDA_PYTHON_ENV)
    monkeypatch.setenv("PATH", str(tmp_path))
    sources = _stack_with_bundles()
    assert len(_bytecode_warnings(sources)) == 1
    # Every bundle is a new asset when bytecode comes or goes.
    assert _asset_keys(compiled).isdisjoint(_asset_keys(sources))
    assert len(_asset_keys(compiled)) == 4  # the code and three layers


def _asset_keys(stack: Stack) -> set[str]:
    template = Template.from_stack(stack).to_json()
    return {
        str(
            resource["Properties"]["Content" if "Content" in resource["Properties"] else "Code"][
                "S3Key"
            ]
        )
        for resource in template["Resources"].values()
        if resource["Type"] in ("AWS::Lambda::Function", "AWS::Lambda::LayerVersion")
    }
