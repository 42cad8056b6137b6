# Audit events become a hash chain: seq, prev_hash and hash. Events already stored are
# numbered in the order they were written (time, then id) and chained.

import django.utils.timezone
from django.db import migrations, models
from django.db.models import Q


def chain_existing_events(apps, schema_editor):
    from kratomwatch.clinic.audit_chain import GENESIS, event_hash

    AuditEvent = apps.get_model("clinic", "AuditEvent")
    db = schema_editor.connection.alias
    events = AuditEvent.objects.using(db).order_by("at", "id")
    columns = (
        "id", "at", "actor__uuid", "action", "object_type", "object_uuid", "patient__uuid", "ip"
    )
    seq, prev_hash, last = 0, GENESIS, None
    while True:
        batch = events
        if last is not None:
            batch = events.filter(Q(at__gt=last[0]) | Q(at=last[0], id__gt=last[1]))
        rows = list(batch.values_list(*columns)[:1000])
        if not rows:
            return
        for pk, at, actor, action, object_type, object_uuid, patient, ip in rows:
            seq += 1
            digest = event_hash(
                seq=seq,
                at=at,
                actor_uuid=actor,
                action=action,
                object_type=object_type,
                object_uuid=object_uuid,
                patient_uuid=patient,
                ip=ip,
                prev_hash=prev_hash,
            )
            AuditEvent.objects.using(db).filter(pk=pk).update(
                seq=seq, prev_hash=prev_hash, hash=digest
            )
            prev_hash = digest
        last = (rows[-1][1], rows[-1][0])


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditevent',
            options={'ordering': ['-seq']},
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='seq',
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(default='', editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(default='', editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='auditevent',
            name='seq',
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
    ]
