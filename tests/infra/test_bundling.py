"""The layers' local bundling: pip for the Lambda platform, without the runtime's boto3, and
an asset hash that changes whenever the layer would."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from infra import bundling
from infra.bundling import LayerSpec


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
    assert bundling.layer_asset_hash(bundling.SHARED_LAYER) != bundling.layer_asset_hash(
        bundling.INGEST_LAYER
    )


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
