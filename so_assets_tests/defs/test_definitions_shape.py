"""The code location's shape against its snapshot, and the layering rules of the package."""

from __future__ import annotations

import ast
import difflib
from pathlib import Path

from so_assets.definitions import defs
from so_assets_tests.defs.snapshot import describe, render

SNAPSHOT = Path(__file__).with_name("definitions.json")
PACKAGE = Path(__file__).resolve().parents[2] / "so_assets"


def test_assets_checks_jobs_and_schedules_match_the_snapshot():
    now = render(describe(defs))
    expected = SNAPSHOT.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), now.splitlines(True),
                                        "snapshot", "definitions"))
    assert now == expected, (
        "the asset graph changed; if that is intended, rewrite the snapshot with\n"
        "  .venv/bin/python -m so_assets_tests.defs.snapshot > "
        "so_assets_tests/defs/definitions.json\n" + diff)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_the_dagster_layer_imports_dagster():
    for path in PACKAGE.rglob("*.py"):
        inside = path.relative_to(PACKAGE).parts[0] in ("defs", "definitions.py")
        if not inside:
            assert not any(m.split(".")[0] == "dagster" for m in imported_modules(path)), path


def test_imports_point_down():
    """The core never imports the steps, the Dagster layer or report code; evaluation (metrics,
    plots, reports) imports nothing of ours but itself."""
    report_code = {"so_assets.evaluation.report", "so_assets.evaluation.tag_report",
                   "so_assets.evaluation.eda", "so_assets.evaluation.clustering_comparison",
                   "so_assets.evaluation.embedding_analysis"}
    for package in ("models", "storage", "tagtree", "embedding", "stackexchange"):
        for path in (PACKAGE / package).rglob("*.py"):
            imports = imported_modules(path)
            assert not {m for m in imports if m.startswith(("so_assets.defs", "so_assets.steps",
                                                            "so_assets.definitions"))}, path
            assert not imports & report_code, path
    for path in (PACKAGE / "evaluation").rglob("*.py"):
        ours = {m for m in imported_modules(path) if m.startswith("so_assets")}
        assert all(m.startswith("so_assets.evaluation") for m in ours), path


def test_loading_the_code_location_imports_no_heavy_library():
    """torch, transformers, scikit-learn, xgboost and h5py load inside the steps only."""
    import subprocess
    import sys

    heavy = ["torch", "transformers", "sklearn", "xgboost", "h5py"]
    done = subprocess.run(
        [sys.executable, "-c", "import sys, so_assets.definitions; "
         f"print([m for m in {heavy!r} if m in sys.modules])"],
        capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_no_step_or_adapter_shadows_a_core_function():
    """A name means one thing: no function of the steps or of the Dagster layer has the name
    of a core function (the step named after its asset is the one pairing allowed)."""
    def functions(path: Path) -> set[str]:
        return {node.name for node in ast.parse(path.read_text()).body
                if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}

    core = set()
    for package in ("models", "storage", "tagtree", "embedding", "stackexchange", "evaluation"):
        for path in (PACKAGE / package).rglob("*.py"):
            core |= functions(path)
    for layer in ("steps", "defs"):
        for path in (PACKAGE / layer).rglob("*.py"):
            assert not functions(path) & core, (path, sorted(functions(path) & core))
