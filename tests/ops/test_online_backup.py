"""A backup taken while the app writes is one consistent moment of the database.

A writer process records doses as fast as it can; each dose and its audit event are written
in one transaction. Backups taken meanwhile are restored into fresh databases: in each, every
dose has its audit event and no event lacks its dose (a copy stitched together from different
moments would break that), and each holds fewer doses than the writer finally wrote.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import Target


def test_backups_during_writes_are_consistent(
    seeded: Callable[[], tuple[Target, Any]], new_target: Callable[[], Target], tmp_path: Path
) -> None:
    live, _ = seeded()
    stop = tmp_path / "stop"
    writer = live.popen(
        "write-loop",
        "online-",
        str(stop),
        module="tests.ops.probe",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    files = [tmp_path / "during-1.kwbak", tmp_path / "during-2.kwbak"]
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing"  # it has begun
        for file in files:
            done = live.kw("backup", "--out", str(file))
            assert done.returncode == 0, done.stderr
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=90)
    assert writer.returncode == 0, err
    final = live.probe("consistency", "online-")
    assert final["doses"] > 0 and final["doses_without_exactly_one_event"] == []

    seen = []
    for file in files:
        copy = new_target()
        restored = copy.kw("restore", str(file))
        assert restored.returncode == 0, restored.stderr
        state = copy.probe("consistency", "online-")
        assert state["doses"] >= 5
        assert state["doses_without_exactly_one_event"] == []
        assert state["events_without_dose"] == 0
        seen.append(state["doses"])
    # Taken while the writing went on: each backup holds a moment before the end.
    assert seen[0] <= seen[1] <= final["doses"] and seen[0] < final["doses"], (seen, final)
