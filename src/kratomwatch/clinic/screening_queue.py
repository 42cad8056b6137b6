"""The screening queue: patients marked due are screened once, by whichever server is free.

Most changes are screened right after they commit. Changes made under
:func:`.signals.deferred_screening` (the dose API) only mark the patient due
(``PatientProfile.screening_due_at``, written in the changing transaction). Every app server
runs a :class:`ScreeningWorker` thread that screens due patients every few seconds.
The queue lives in the database, so app servers keep no state of their own, and many
changes to one patient between two rounds cost one screening: a server records when it took
a patient from the queue, and the others leave that patient alone for one round.
Screening reads and screens the record without holding a write lock (on SQLite, the
database's only one) and stores the findings in a short transaction afterwards; a change
that arrives meanwhile leaves the patient due for the next round (see
:func:`.actions.do_screen_patient`). ``kratomwatch screen-worker`` runs the same loop as a
separate process.

Each round also sends the care team's alerts of new urgent findings that any server put in
the outbox (:func:`.alerts.send_pending_alerts`), outside any transaction.

A new knowledge-base release changes what screening finds, so every record screened with
another release is queued again (:func:`queue_knowledge_release`): by each worker once, in
its first round, never at start-up, and screened by the queue like any other change.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.db import close_old_connections, connection
from django.db.models import Min
from django.utils import timezone

from kratomwatch.clinic.actions.screening import do_screen_if_due
from kratomwatch.clinic.alerts import send_pending_alerts
from kratomwatch.clinic.models import PatientProfile
from kratomwatch.domain.safety.knowledge import KnowledgeError, load_knowledge

logger = logging.getLogger(__name__)

#: Seconds between two rounds of the worker: how long a queued change waits at most, when
#: the servers keep up.
DEFAULT_INTERVAL = 3.0


def screen_due(
    limit: int = 1000, now: datetime | None = None, *, gap: float = DEFAULT_INTERVAL
) -> int:
    """One pass over the patients marked due now, oldest mark first; returns how many were
    screened. Changes arriving during the pass wait for the next one, and a patient taken
    from the queue by any server is left alone for ``gap`` seconds, so that a patient who
    keeps changing is screened once per round however many servers there are."""
    ids = list(
        PatientProfile.objects.filter(screening_due_at__isnull=False)
        .order_by("screening_due_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(do_screen_if_due(pk, now, gap=gap) for pk in ids)


def queue_knowledge_release(now: datetime | None = None) -> int:
    """Mark for screening every patient whose findings were screened with another knowledge
    release than the one loaded now (or never screened); returns how many were marked."""
    try:
        version = load_knowledge().version
    except (KnowledgeError, OSError):
        return 0  # screening itself reports a knowledge base that cannot load
    return (
        PatientProfile.objects.filter(screening_due_at__isnull=True)
        .exclude(screened_knowledge=version)
        .update(screening_due_at=now or timezone.now())
    )


def backlog(now: datetime | None = None) -> tuple[int, timedelta]:
    """How many patients wait for screening, and how long the oldest has waited."""
    now = now or timezone.now()
    due = PatientProfile.objects.filter(screening_due_at__isnull=False)
    oldest = due.aggregate(oldest=Min("screening_due_at"))["oldest"]
    return due.count(), (now - oldest) if oldest else timedelta(0)


class ScreeningWorker(threading.Thread):
    """Screens due patients every ``interval`` seconds until :meth:`stop` is called."""

    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__(name="kratomwatch-screening", daemon=True)
        self.interval = interval
        self._stopped = threading.Event()
        self._release_queued = False

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.round()
        connection.close()

    def round(self) -> int:
        close_old_connections()
        try:
            if not self._release_queued:
                queued = queue_knowledge_release()
                self._release_queued = True
                if queued:
                    logger.info("knowledge release: %d patients queued for screening", queued)
            screened = screen_due(gap=self.interval)
        except Exception:  # noqa: BLE001 - keep screening; the next round retries
            logger.exception("screening round failed")
            screened = 0
        try:
            # The care team's alerts of what this and every other server found.
            send_pending_alerts()
        except Exception:  # noqa: BLE001 - keep going; what was not claimed waits
            logger.exception("sending alerts failed")
        finally:
            close_old_connections()
        return screened

    def stop(self) -> None:
        self._stopped.set()
