"""Helpers shared by the export and import commands: finding records, progress bars.

Import this module only after Django is set up (it imports the models).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from django.db import DatabaseError

from kratomwatch.clinic.models import Clinic, PatientProfile


class NotFound(Exception):
    """The record named on the command line does not exist; the message says which."""


def get_patient(text: str) -> PatientProfile:
    try:
        public_id = uuid.UUID(text.strip())
    except ValueError as exc:
        raise NotFound(f"--patient: {text!r} is not a patient id (a UUID)") from exc
    try:
        return PatientProfile.objects.select_related("user", "clinic").get(uuid=public_id)
    except PatientProfile.DoesNotExist as exc:
        raise NotFound(f"--patient: no patient with id {public_id}") from exc


def get_clinic(slug: str) -> Clinic:
    try:
        return Clinic.objects.get(slug=slug)
    except Clinic.DoesNotExist as exc:
        known = ", ".join(Clinic.objects.order_by("slug").values_list("slug", flat=True))
        raise NotFound(f"--clinic: no clinic {slug!r} (clinics: {known or 'none'})") from exc


def database_problem(exc: DatabaseError) -> str:
    return f"the database is not usable ({exc}); has `kratomwatch migrate` been run?"


class Advance(Protocol):
    def __call__(self, steps: int = 1) -> None: ...


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Advance]:
    """A progress bar on stderr when it is a terminal; otherwise nothing is shown."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(file=sys.stderr)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(steps: int = 1) -> None:
            bar.advance(task, steps)

        yield advance
