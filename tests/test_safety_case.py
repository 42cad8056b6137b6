"""The hazard log links every control to tests that exist."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "docs" / "safety" / "hazard-log.yaml"
REQUIRED = {
    "A dangerous combination is missed",
    "A dose is recorded in the wrong unit",
    "Data are recorded against, or shown for, the wrong patient",
    "Alert fatigue hides an important finding",
    "The knowledge base is outdated or wrong",
    "Screening fails silently",
    "An analysis misleads",
}


@cache
def defined_tests(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {
                f"{node.name}::{f.name}"
                for f in node.body
                if isinstance(f, ast.FunctionDef) and f.name.startswith("test")
            }
    return frozenset(names)


def test_every_hazard_has_causes_controls_residual_risk_and_existing_tests() -> None:
    log = yaml.safe_load(LOG.read_text())
    titles = {h["title"] for h in log["hazards"]}
    assert REQUIRED <= titles
    missing = []
    for hazard in log["hazards"]:
        assert hazard["causes"] and hazard["controls"], hazard["id"]
        risk = hazard["residual_risk"]
        assert 1 <= risk["likelihood"] <= 5 and 1 <= risk["severity"] <= 5 and risk["note"]
        for control in hazard["controls"]:
            assert control["tests"], f"{hazard['id']}: a control without a test"
            for node in control["tests"]:
                file, _, name = node.partition("::")
                path = ROOT / file
                if not path.exists() or name not in defined_tests(path):
                    missing.append(f"{hazard['id']}: {node}")
    assert not missing, missing
