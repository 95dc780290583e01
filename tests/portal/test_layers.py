"""docs/architecture.md's layering holds (import-linter contracts in .importlinter), and the contracts would catch
the import the layering issue names: policy's selectors reaching up into accounts' flows."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("portal", "accounts", "policy", "audit", "notifications", "lookups", "incidents", "letter", "compliance", "federation")


def _lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / ".importlinter", tree / ".importlinter")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "*.txt"))
    return tree


def test_it_keeps_every_contract(tmp_path):
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_it_refuses_policy_importing_the_accounts_flows(tmp_path):
    tree = _copy(tmp_path)
    with open(tree / "policy" / "selectors.py", "a") as selectors:
        selectors.write("\nfrom accounts.selectors import account_list  # noqa\n")
    result = _lint(tree)
    assert result.returncode == 1
    assert "policy.selectors -> accounts.selectors" in result.stdout


def test_it_refuses_a_form_importing_a_service(tmp_path):
    tree = _copy(tmp_path)
    with open(tree / "accounts" / "forms.py", "a") as forms:
        forms.write("\nfrom accounts.services import lifecycle  # noqa\n")
    result = _lint(tree)
    assert result.returncode == 1
    assert "forms only parse and validate: they never import services BROKEN" in result.stdout


def test_it_refuses_an_app_importing_compliance(tmp_path):
    """docs/architecture.md: compliance reads every app and nothing imports it."""
    tree = _copy(tmp_path)
    with open(tree / "accounts" / "selectors.py", "a") as selectors:
        selectors.write("\nfrom compliance.selectors import dashboard  # noqa\n")
    result = _lint(tree)
    assert result.returncode == 1
    assert "accounts.selectors -> compliance.selectors" in result.stdout
