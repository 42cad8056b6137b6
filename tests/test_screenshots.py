"""The documentation's screenshots come from the browser tests, by one command."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.screenshots import IMAGES, ROOT, documented_images, publish, shot_names


def test_every_documented_image_is_taken_by_a_browser_test() -> None:
    documented = documented_images()
    assert {"clinician-panel", "trends-360", "red-flag-desktop"} <= documented
    assert documented <= shot_names(), documented - shot_names()


def test_every_image_in_docs_img_is_shown_by_the_docs() -> None:
    """An image nobody shows would never be taken again: it goes stale unnoticed."""
    kept = {path.stem for path in IMAGES.glob("*.png")}
    assert kept <= documented_images(), kept - documented_images()


def test_the_command_is_documented() -> None:
    script = ROOT / "scripts" / "screenshots"
    assert os.access(script, os.X_OK)
    assert "KRATOMWATCH_SCREENSHOTS=" in script.read_text()
    assert "./scripts/screenshots" in (ROOT / "README.md").read_text()


def page(root: Path, text: str) -> None:
    (root / "docs").mkdir(parents=True, exist_ok=True)
    (root / "README.md").write_text(text)


def test_the_documented_images_are_copied_all_or_none(tmp_path: Path) -> None:
    root, shots = tmp_path / "repo", tmp_path / "shots"
    page(root, "![a](docs/img/panel.png)\n<img src='docs/img/home-360.png'>\n")
    (root / "docs" / "guide.md").write_text("![b](img/report.png)")
    shots.mkdir()
    for name in ("panel", "home-360", "other"):
        (shots / f"{name}.png").write_bytes(name.encode())
    images = root / "docs" / "img"
    with pytest.raises(FileNotFoundError, match=r"no browser test took report\.png"):
        publish(shots, images, root)
    assert not images.exists()  # nothing copied
    (shots / "report.png").write_bytes(b"report")
    copied = publish(shots, images, root)
    assert sorted(p.name for p in copied) == ["home-360.png", "panel.png", "report.png"]
    assert (images / "panel.png").read_bytes() == b"panel"
    assert not (images / "other.png").exists()  # shots the docs do not show stay out
