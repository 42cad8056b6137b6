from typing import Any

from django.core.management.base import BaseCommand

from kratomwatch.clinic.reminders import send_due_reminders


class Command(BaseCommand):
    help = "Send due daily check-in reminders (exactly once per patient per day)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_due_reminders()
        self.stdout.write(f"Sent {sent} reminder(s).")
