from typing import Any

from django.core.management.base import BaseCommand

from kratomwatch.clinic.alerts import send_daily_digests


class Command(BaseCommand):
    help = "Send clinicians' daily digests of new findings (at most once per clinician per day)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_daily_digests()
        self.stdout.write(f"Sent {sent} digest(s).")
