"""FHIR Bulk Data export: the access tokens of bulk clients, export jobs and their files.

A bulk client (:class:`~kratomwatch.clinic.models.EhrClient` of kind ``bulk``) exchanges a
signed assertion for an access token (SMART Backend Services); only the token's SHA-256 is
kept, and it lives five minutes. An export job belongs to the client that started it and to
that client's clinic; its NDJSON files are kept in the database (app servers keep no files of
their own) until the job expires. See docs/bulk-data.md.
"""

from __future__ import annotations

from django.db import models

from .base import Record
from .ehr import EhrClient
from .people import Clinic


class BulkAccessToken(models.Model):
    """An access token issued to a bulk client: its SHA-256, the scopes granted, expiry."""

    client = models.ForeignKey(EhrClient, on_delete=models.CASCADE, related_name="bulk_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.client} until {self.expires_at:%H:%M:%S}"


class BulkJobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


class BulkExportJob(Record):
    client = models.ForeignKey(EhrClient, on_delete=models.CASCADE, related_name="bulk_jobs")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="bulk_jobs")
    status = models.CharField(
        max_length=10, choices=BulkJobStatus.choices, default=BulkJobStatus.QUEUED
    )
    #: The kick-off request as the manifest reports it (``request``).
    request_url = models.CharField(max_length=2000)
    #: Resource types asked for (``_type``), in export order; all exported types when empty.
    types = models.JSONField(default=list)
    #: ``_since``: only resources changed after this time.
    since = models.DateTimeField(null=True, blank=True)
    #: Patients written so far and in all, for ``X-Progress``.
    patients_done = models.PositiveIntegerField(default=0)
    patients_total = models.PositiveIntegerField(default=0)
    #: The ``transactionTime`` of the manifest: when the job started reading the records.
    transaction_time = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: The claim: how many times a worker has taken the job. A worker acts on the job (and
    #: its files) only while this is still its claim's number.
    attempt = models.PositiveIntegerField(default=0)
    #: Why a failed job failed, for the manifest's OperationOutcome.
    error = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created"], name="bulk_job_queue")]

    def __str__(self) -> str:
        return f"bulk export {self.uuid} ({self.status})"


class BulkExportFile(Record):
    """One NDJSON part of a job's output: resources of one type, in the order written."""

    job = models.ForeignKey(BulkExportJob, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    part = models.PositiveIntegerField()
    #: The job's :attr:`~BulkExportJob.attempt` that wrote this part.
    attempt = models.PositiveIntegerField(default=0)
    count = models.PositiveIntegerField()
    content = models.TextField()

    class Meta:
        ordering = ["resource_type", "part"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "attempt", "resource_type", "part"],
                name="unique_bulk_file_attempt_part",
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} part {self.part} of {self.job}"
