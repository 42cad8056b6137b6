"""The bulk export queue: jobs started by the kick-off request, run by whichever worker is free.

Jobs live in the database (:class:`~kratomwatch.clinic.models.BulkExportJob`), so app servers
keep no state. A worker claims the oldest queued job (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL; on SQLite the claiming transaction is ``IMMEDIATE``, so claims are serialized) and
writes it with :func:`kratomwatch.interop.fhir_bulk.run_job`. A running job whose worker
stopped reporting for :data:`~kratomwatch.interop.fhir_bulk.STALLED_AFTER` is queued again;
each claim counts an ``attempt`` that the worker's writes are tied to, so a worker whose job
was taken over stops quietly, and a job taken
:data:`~kratomwatch.interop.fhir_bulk.MAX_ATTEMPTS` times fails.
Each round also deletes expired jobs with their files, and expired access tokens.

Every app server (``kratomwatch serve``) and ``kratomwatch screen-worker`` run a
:class:`BulkExportWorker` thread beside the screening thread; ``kratomwatch bulk-worker`` runs
the same loop alone (``--once`` for one round).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from kratomwatch.clinic import access
from kratomwatch.clinic.models import BulkAccessToken, BulkExportJob, BulkJobStatus
from kratomwatch.interop.fhir_bulk import KEPT_FOR, MAX_ATTEMPTS, STALLED_AFTER, fail_job, run_job

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0


#: What loading a job row can raise when a stored value cannot be read back (a date beyond
#: what Python or the database driver converts).
_UNLOADABLE = (ValueError, OverflowError, DatabaseError)


def _mark_unloadable(pk: int, now: datetime) -> None:
    """A job whose row cannot be loaded fails (without loading it), so it blocks nothing."""
    logger.exception("bulk export job %s cannot be loaded; it is marked failed", pk)
    BulkExportJob.objects.filter(pk=pk).update(
        status=BulkJobStatus.FAILED,
        since=None,
        error="The export could not be read back on the server; start a new export.",
        finished_at=now,
        expires_at=now + KEPT_FOR,
        modified=now,
    )


def _load(query: QuerySet[BulkExportJob], pk: int, now: datetime) -> BulkExportJob | None:
    """The job ``pk`` of ``query``, or ``None`` if it is not there or cannot be loaded."""
    try:
        with transaction.atomic():  # a savepoint: a failed read leaves the caller's work
            return query.filter(pk=pk).first()
    except _UNLOADABLE:
        _mark_unloadable(pk, now)
        return None


def claim_job(now: datetime | None = None) -> BulkExportJob | None:
    """The oldest queued job, now marked running by this worker; ``None`` if none waits.

    Primary keys are read first and each job is loaded on its own, so a row that cannot be
    loaded is marked failed and skipped instead of stopping every clinic's queue.
    """
    now = now or timezone.now()
    BulkExportJob.objects.filter(
        status=BulkJobStatus.RUNNING, modified__lt=now - STALLED_AFTER
    ).update(status=BulkJobStatus.QUEUED, modified=now)
    waiting = list(
        BulkExportJob.objects.filter(status=BulkJobStatus.QUEUED, client__active=True)
        .order_by("created", "pk")
        .values_list("pk", flat=True)
    )
    for pk in waiting:
        with transaction.atomic():
            queued = BulkExportJob.objects.filter(status=BulkJobStatus.QUEUED)
            if connection.features.has_select_for_update_skip_locked:
                queued = queued.select_for_update(skip_locked=True, of=("self",))
            job = _load(queued, pk, now)
            if job is None:
                continue
            job.status = BulkJobStatus.RUNNING
            job.attempt += 1  # this claim; an earlier worker still running stops
            job.started_at = job.transaction_time = now
            job.patients_done = 0
            job.files.filter(attempt__lt=job.attempt).delete()  # a stalled run's parts
            job.patients_total = access.bulk_export_patients(job).count()
            job.save()
        if job.attempt > MAX_ATTEMPTS:
            fail_job(
                job,
                f"The export was started {MAX_ATTEMPTS} times without finishing; "
                "start a new export.",
            )
            continue
        return job
    return None


def purge_expired(now: datetime | None = None) -> int:
    """Delete expired jobs (their files go with them) and expired tokens; returns the jobs.

    Each job is deleted on its own; one whose row cannot be loaded is first cleared of the
    unreadable value (:func:`_mark_unloadable`) and deleted then."""
    now = now or timezone.now()
    BulkAccessToken.objects.filter(expires_at__lt=now).delete()
    expired = list(
        BulkExportJob.objects.filter(expires_at__lt=now)
        .exclude(status=BulkJobStatus.RUNNING)
        .values_list("pk", flat=True)
    )
    deleted = 0
    for pk in expired:
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    deleted += (
                        BulkExportJob.objects.filter(pk=pk)
                        .delete()[1]
                        .get(BulkExportJob._meta.label, 0)
                    )
                break
            except _UNLOADABLE:
                _mark_unloadable(pk, now)
                BulkExportJob.objects.filter(pk=pk).update(expires_at=now - KEPT_FOR)
    return deleted


def run_round(now: datetime | None = None, stop: threading.Event | None = None) -> int:
    """Purge what expired, then run queued jobs until none waits or ``stop`` is set (the
    running job is then put back in the queue between two patients); returns the jobs run."""
    purge_expired(now)
    ran = 0
    while not (stop is not None and stop.is_set()) and (job := claim_job()) is not None:
        run_job(job, stop=stop)
        ran += 1
    return ran


#: The worker threads started in this process, for :func:`stop_workers`.
_started: list[BulkExportWorker] = []


def stop_workers(timeout: float = 10.0) -> None:
    """Stop this process's bulk export threads (at shutdown): each puts its running job back
    in the queue before its next patient; waits up to ``timeout`` seconds in all."""
    for worker in _started:
        worker.stop()
    for worker in _started:
        if worker.is_alive() and worker is not threading.current_thread():
            worker.join(timeout)
    _started[:] = [w for w in _started if w.is_alive()]


class BulkExportWorker(threading.Thread):
    """Runs queued bulk export jobs every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__(name="kratomwatch-bulk-export", daemon=True)
        self.interval = interval
        self._stopped = threading.Event()

    def start(self) -> None:
        _started.append(self)
        super().start()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.round()
        connection.close()

    def round(self) -> int:
        close_old_connections()
        try:
            return run_round(stop=self._stopped)
        except Exception:  # noqa: BLE001 - keep going; the next round retries
            logger.exception("bulk export round failed")
            return 0
        finally:
            close_old_connections()

    @property
    def stopped(self) -> threading.Event:
        return self._stopped

    def stop(self) -> None:
        self._stopped.set()
