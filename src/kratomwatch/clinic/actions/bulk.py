"""FHIR Bulk Data export: issuing a bulk client's access token, starting and cancelling
export jobs, and noting file downloads in the audit trail.

The client, its token and the job reach these functions already authorized
(:mod:`kratomwatch.clinic.access`, :func:`kratomwatch.clinic.ehr_auth.verify`). The audit
events have no user (the actor is the client, named by the event's object).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.actions.tokens import hash_secret
from kratomwatch.clinic.models import (
    BulkAccessToken,
    BulkExportFile,
    BulkExportJob,
    BulkJobStatus,
    Clinic,
    EhrClient,
)
from kratomwatch.interop.fhir_bulk import KEPT_FOR, ExportRequest

#: How long an access token lives (SMART Backend Services recommends five minutes).
TOKEN_LIFETIME = timedelta(minutes=5)


class ExportInProgress(Exception):
    """The client already has a queued or running export (one at a time per client)."""

    def __init__(self, job: BulkExportJob) -> None:
        super().__init__(str(job.uuid))
        self.job = job


@dataclass(frozen=True)
class IssuedToken:
    token: BulkAccessToken
    secret: str  # handed to the client once; only its SHA-256 is stored


def do_issue_bulk_token(
    client: EhrClient, scopes: list[str], ip: str | None, now: datetime | None = None
) -> IssuedToken:
    now = now or timezone.now()
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = BulkAccessToken.objects.create(
            client=client,
            token_hash=hash_secret(secret),
            scope=" ".join(scopes),
            expires_at=now + TOKEN_LIFETIME,
        )
        audit_chain.append(
            None, "bulk.token", object_type="bulk_client", object_uuid=client.uuid, ip=ip
        )
    return IssuedToken(token, secret)


def do_start_bulk_export(
    token: BulkAccessToken,
    clinic: Clinic,
    export: ExportRequest,
    request_url: str,
    ip: str | None,
    now: datetime | None = None,
) -> BulkExportJob:
    """Queue the export; :class:`ExportInProgress` if the client has one queued or running."""
    now = now or timezone.now()
    with transaction.atomic():
        # The client's row is locked so that two kick-offs at once cannot both start a job.
        list(EhrClient.objects.select_for_update().filter(pk=token.client_id).values("pk"))
        active = (
            BulkExportJob.objects.filter(
                client_id=token.client_id,
                status__in=(BulkJobStatus.QUEUED, BulkJobStatus.RUNNING),
            )
            .only("uuid")
            .first()
        )
        if active is not None:
            raise ExportInProgress(active)
        job = BulkExportJob.objects.create(
            client=token.client,
            clinic=clinic,
            request_url=request_url[:2000],
            types=export.types,
            since=export.since,
            expires_at=now + KEPT_FOR,
        )
        audit_chain.append(
            None, "bulk.export.start", object_type="bulk_export", object_uuid=job.uuid, ip=ip
        )
    return job


def do_cancel_bulk_export(job: BulkExportJob, ip: str | None) -> None:
    """Cancel the job (a running one stops before its next patient) and delete its files."""
    with transaction.atomic():
        BulkExportJob.objects.filter(pk=job.pk).update(
            status=BulkJobStatus.CANCELLED, modified=timezone.now()
        )
        BulkExportFile.objects.filter(job=job).delete()
        audit_chain.append(
            None, "bulk.export.cancel", object_type="bulk_export", object_uuid=job.uuid, ip=ip
        )


def do_record_bulk_download(file: BulkExportFile, ip: str | None) -> None:
    audit_chain.append(
        None, "bulk.export.download", object_type="bulk_export", object_uuid=file.job.uuid, ip=ip
    )
