"""The import contract (pyproject.toml, run by `make lint`): it holds for the tree, and it breaks
when a lower layer imports a higher one. Run on a copy of the packages, so the tree is not touched."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]


def copy_of_the_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    # Run in the copy: lint-imports puts its working directory first on sys.path.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=tree, capture_output=True, text=True, timeout=120
    )


def test_the_layers_are_bottom_up_and_emit_is_the_one_named_exception():
    layers = next(c for c in CONFIG["contracts"] if c["id"] == "layers")

    assert layers["layers"] == ["bench", "webhooks_project", "deliveries", "channels", "events", "common"]
    assert layers["ignore_imports"] == ["events.services -> deliveries.fanout"]


def test_the_tree_keeps_the_contract(tmp_path):
    run = lint_imports(copy_of_the_tree(tmp_path))

    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    "module, upward_import",
    [
        ("events/models.py", "from deliveries.models import Delivery"),
        ("common/permissions.py", "import channels.services"),
        ("deliveries/engine/claims.py", "from deliveries.services import retry_deliveries"),
    ],
    ids=["events imports deliveries", "common imports an app", "engine imports a user action"],
)
def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(tmp_path, module, upward_import):
    # given the tree with one upward import added, inside a function as much as at the top
    tree = copy_of_the_tree(tmp_path)
    with open(tree / module, "a") as source:
        source.write(f"\n\ndef _upward():\n    {upward_import}\n")

    # when the contract is checked
    run = lint_imports(tree)

    # then it fails and names the import
    assert run.returncode == 1, run.stdout + run.stderr
    assert "BROKEN" in run.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    assert importer in run.stdout, run.stdout
