"""The bulk export queue: jobs started by the kick-off request, run by whichever worker is free.

Jobs live in the database (:class:`~kratomwatch.clinic.models.BulkExportJob`), so app servers
keep no state. A worker claims the oldest queued job (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL; on SQLite the claiming transaction is ``IMMEDIATE``, so claims are serialized) and
writes it with :func:`kratomwatch.interop.fhir_bulk.run_job`. A running job whose worker
stopped reporting for :data:`~kratomwatch.interop.fhir_bulk.STALLED_AFTER` is queued again.
Each round also deletes expired jobs with their files, and expired access tokens.

Every app server (``kratomwatch serve``) and ``kratomwatch screen-worker`` run a
:class:`BulkExportWorker` thread beside the screening thread; ``kratomwatch bulk-worker`` runs
the same loop alone (``--once`` for one round).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from kratomwatch.clinic import access
from kratomwatch.clinic.models import BulkAccessToken, BulkExportJob, BulkJobStatus
from kratomwatch.interop.fhir_bulk import STALLED_AFTER, run_job

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0


def claim_job(now: datetime | None = None) -> BulkExportJob | None:
    """The oldest queued job, now marked running by this worker; ``None`` if none waits."""
    now = now or timezone.now()
    BulkExportJob.objects.filter(
        status=BulkJobStatus.RUNNING, modified__lt=now - STALLED_AFTER
    ).update(status=BulkJobStatus.QUEUED, modified=now)
    with transaction.atomic():
        queued = BulkExportJob.objects.filter(
            status=BulkJobStatus.QUEUED, client__active=True
        ).order_by("created")
        if connection.features.has_select_for_update_skip_locked:
            queued = queued.select_for_update(skip_locked=True, of=("self",))
        job = queued.first()
        if job is None:
            return None
        job.status = BulkJobStatus.RUNNING
        job.started_at = job.transaction_time = now
        job.patients_done = 0
        job.files.all().delete()  # a stalled run's parts
        job.patients_total = access.bulk_export_patients(job).count()
        job.save()
    return job


def purge_expired(now: datetime | None = None) -> int:
    """Delete expired jobs (their files go with them) and expired tokens; returns the jobs."""
    now = now or timezone.now()
    BulkAccessToken.objects.filter(expires_at__lt=now).delete()
    expired = BulkExportJob.objects.filter(expires_at__lt=now).exclude(status=BulkJobStatus.RUNNING)
    deleted = expired.delete()[1]
    return deleted.get(BulkExportJob._meta.label, 0)


def run_round(now: datetime | None = None) -> int:
    """Purge what expired, then run queued jobs until none waits; returns the jobs run."""
    purge_expired(now)
    ran = 0
    while (job := claim_job()) is not None:
        run_job(job)
        ran += 1
    return ran


class BulkExportWorker(threading.Thread):
    """Runs queued bulk export jobs every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__(name="kratomwatch-bulk-export", daemon=True)
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.round()
        connection.close()

    def round(self) -> int:
        close_old_connections()
        try:
            return run_round()
        except Exception:  # noqa: BLE001 - keep going; the next round retries
            logger.exception("bulk export round failed")
            return 0
        finally:
            close_old_connections()

    def stop(self) -> None:
        self._stopped.set()
