"""``./scripts/screenshots`` from a real process: the browser tests' shots reach docs/img."""

from __future__ import annotations

import os
import subprocess
import sys

from .screenshots import IMAGES, ROOT


def test_the_command_takes_the_shots_and_copies_only_a_complete_set() -> None:
    """One browser test run by the command: its shots are taken under the names the README
    shows, and since the other documented images were not taken, docs/img is left alone."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KRATOMWATCH_") and k != "DATABASE_URL"
    }  # its own SQLite test database, not this run's
    env["PYTHON"] = sys.executable
    before = {p.name: p.stat().st_mtime_ns for p in IMAGES.glob("*.png")}
    done = subprocess.run(
        [str(ROOT / "scripts" / "screenshots"), "-q", "-p", "no:cacheprovider",
         "-k", "test_a_check_in_on_a_phone"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 passed" in done.stdout
    [message] = [line for line in done.stderr.splitlines() if "no browser test took" in line]
    missing = set(message.split("took ")[1].split(" (in")[0].split(", "))
    assert {"clinician-panel.png", "red-flag-desktop.png"} <= missing  # other tests' shots
    for taken in ("patient-home-360.png", "checkin-360.png", "trends-360.png"):
        assert taken not in missing
    assert "nothing was copied" in message
    assert {p.name: p.stat().st_mtime_ns for p in IMAGES.glob("*.png")} == before
