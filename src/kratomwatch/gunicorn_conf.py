"""gunicorn settings used by ``kratomwatch serve``: each worker also screens due patients."""

from __future__ import annotations

from typing import Any


def post_worker_init(worker: Any) -> None:
    """Start the screening thread once the worker has loaded the app (see screening_queue)."""
    from kratomwatch.clinic.screening_queue import ScreeningWorker

    ScreeningWorker().start()
