"""Rewrite kratomwatch/clinic/data_strings.py from the data files (before makemessages)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kratomwatch.clinic.data_msgids import MODULE, write_module


class Command(BaseCommand):
    help = "Write the data files' patient-facing texts as gettext_noop entries for makemessages."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = write_module()
        self.stdout.write(f"{MODULE} {'rewritten' if changed else 'already up to date'}")
