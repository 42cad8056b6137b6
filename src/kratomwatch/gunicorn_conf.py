"""gunicorn settings used by ``kratomwatch serve``: each worker also screens due patients."""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    """Once the worker has loaded the app: keep what was loaded out of the garbage collector's
    full passes (they would otherwise walk every loaded module at each pass), and start the
    screening thread (see kratomwatch.clinic.screening_queue)."""
    from django.urls import get_resolver

    from kratomwatch.clinic.screening_queue import ScreeningWorker

    get_resolver().url_patterns  # noqa: B018 - import every view module now, not on a request
    gc.collect()
    gc.freeze()
    ScreeningWorker().start()
