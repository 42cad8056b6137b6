"""The documentation's screenshots, taken by the browser tests (``./scripts/screenshots``).

A browser test takes a screenshot with ``shot(page, NAME)`` (``conftest.py``), written as
``NAME.png`` to ``$KRATOMWATCH_SCREENSHOTS``. The README and the pages in ``docs/`` show some of
them from ``docs/img/``; such a shot is named by a literal string (a name built at run
time, such as one per viewport, cannot be checked against the docs without running the
tests). ``./scripts/screenshots`` runs the browser tests into a temporary
directory and then calls :func:`main`, which copies each image the documentation names into
``docs/img/``; nothing is copied if one of them was not taken.
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BROWSER_TESTS = Path(__file__).resolve().parent
IMAGES = ROOT / "docs" / "img"
_REFERENCE = re.compile(r"(?:docs/)?img/([\w.-]+)\.png")


def documented_images(root: Path = ROOT) -> set[str]:
    """The names of the ``docs/img`` images the README and the docs pages show."""
    pages = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    return {name for page in pages for name in _REFERENCE.findall(page.read_text())}


def shot_names(folder: Path = BROWSER_TESTS) -> set[str]:
    """The names the browser tests give their screenshots: ``shot(page, "NAME")``."""
    names = set()
    for path in sorted(folder.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "shot"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                names.add(node.args[1].value)
    return names


def publish(shots: Path, images: Path = IMAGES, root: Path = ROOT) -> list[Path]:
    """Copy the documented images from ``shots`` into ``images``; all of them, or none."""
    wanted = sorted(documented_images(root))
    missing = [name for name in wanted if not (shots / f"{name}.png").is_file()]
    if missing:
        raise FileNotFoundError(
            "no browser test took "
            + ", ".join(f"{name}.png" for name in missing)
            + f" (in {shots}); nothing was copied"
        )
    images.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(shots / f"{name}.png", images / f"{name}.png")) for name in wanted]


def main(argv: list[str]) -> int:
    try:
        copied = publish(Path(argv[0]))
    except FileNotFoundError as exc:
        print(f"screenshots: {exc}", file=sys.stderr)
        return 1
    for path in copied:
        print(f"  {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
