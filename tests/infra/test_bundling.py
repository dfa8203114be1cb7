"""The layer's local bundling: pip for the Lambda platform, without the runtime's boto3, and
an asset hash that changes whenever the layer would."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import bundling


def test_pip_targets_the_lambda_platform(tmp_path: Path) -> None:
    command = bundling.pip_command(tmp_path)
    assert command[command.index("--python-version") + 1] == "3.14"
    assert command[command.index("--target") + 1] == str(tmp_path)
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


def test_requirements_are_part_of_the_asset_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("pydantic==2.0\n")
    monkeypatch.setattr(bundling, "REQUIREMENTS", requirements)
    before = bundling.layer_asset_hash()
    requirements.write_text("pydantic==2.1\n")
    assert bundling.layer_asset_hash() != before


def test_the_package_is_part_of_the_asset_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "tally"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.setattr(bundling, "LAYERS_DIR", tmp_path)
    monkeypatch.setattr(bundling, "PACKAGE_DIR", package)
    before = bundling.layer_asset_hash()
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_text("cache")
    assert bundling.layer_asset_hash() == before  # caches do not count
    (package / "tables.py").write_text("X = 1\n")
    assert bundling.layer_asset_hash() != before
