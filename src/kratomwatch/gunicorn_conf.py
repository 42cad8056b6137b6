"""gunicorn settings used by ``kratomwatch serve``: each worker also screens due patients
and runs queued bulk exports."""

from __future__ import annotations

import gc
from typing import Any

# The access log: no query string (%(q)s, and %(r)s which holds it) and no referrer (%(f)s):
# they may hold search terms, that is health data (kratomwatch.logsafe).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'


def post_worker_init(worker: Any) -> None:
    """Once the worker has loaded the app: read the knowledge files, keep what was loaded out
    of the garbage collector's full passes (they would otherwise walk every loaded module at
    each pass), and start the screening thread (see kratomwatch.clinic.screening_queue)."""
    from django.urls import get_resolver

    from kratomwatch.clinic.bulk_queue import BulkExportWorker
    from kratomwatch.clinic.screening_queue import ScreeningWorker
    from kratomwatch.domain.evidence import load_library
    from kratomwatch.domain.questionnaires.loader import load_instruments

    get_resolver().url_patterns  # noqa: B018 - import every view module now, not on a request
    # The knowledge base, instruments and evidence library are parsed and validated here
    # (about 0.3 s), not by the worker's first screening or check-in.
    load_library()
    load_instruments()
    gc.collect()
    gc.freeze()
    ScreeningWorker().start()
    BulkExportWorker().start()


def worker_exit(server: Any, worker: Any) -> None:
    """As the worker exits (SIGTERM, restart): its bulk export thread stops between two
    patients and puts its job back in the queue for another worker."""
    from kratomwatch.clinic.bulk_queue import stop_workers

    stop_workers()
