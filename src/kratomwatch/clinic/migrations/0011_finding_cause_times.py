"""Findings record when their cause began and last happened (from their triggering events)."""

from django.db import migrations, models

from kratomwatch.domain.findings import cause_times


def from_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Stored findings take their cause's times from their triggers, else when first found."""
    Finding = apps.get_model("clinic", "Finding")
    for finding in Finding.objects.only("id", "triggers", "first_seen").iterator():
        first, last = cause_times(finding.triggers or [])
        Finding.objects.filter(pk=finding.pk).update(
            cause_first_at=first or finding.first_seen,
            cause_last_at=last or first or finding.first_seen,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0010_plan_approved_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="finding",
            name="cause_first_at",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "When its cause began (the earliest symptom report, dose or answer that "
                    "triggers it); for causes with no time of their own, when it was first found."
                ),
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="finding",
            name="cause_last_at",
            field=models.DateTimeField(
                blank=True,
                help_text=(
                    "When its cause last happened (the latest triggering report, dose or answer)."
                ),
                null=True,
            ),
        ),
        migrations.RunPython(from_triggers, migrations.RunPython.noop),
    ]
