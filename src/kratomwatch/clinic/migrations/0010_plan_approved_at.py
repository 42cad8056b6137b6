"""Plans record when they were approved: their limits apply to doses from that instant."""

import django.utils.timezone
from django.db import migrations, models


def approved_when_created(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Versions stored so far were approved when they were created (``do_save_plan``)."""
    Plan = apps.get_model("clinic", "Plan")
    Plan.objects.update(approved_at=models.F("created"))


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0009_fewer_indexes_per_dose"),
    ]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="approved_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                help_text=(
                    "When the clinician approved this version: its limits apply to doses "
                    "from then."
                ),
            ),
        ),
        migrations.RunPython(approved_when_created, migrations.RunPython.noop),
    ]
