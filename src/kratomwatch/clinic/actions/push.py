"""Push subscriptions and how a clinician is told of findings."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.models import PushSubscription, User
from kratomwatch.clinic.push import Subscription


def do_subscribe(*, user: User, subscription: Subscription) -> PushSubscription:
    """Keep a browser's subscription for ``user``. The same browser subscribing again (its
    endpoint is known) updates its keys; one that another account had on a shared phone
    becomes this account's, so that the phone shows only the signed-in person's messages."""
    values = {"user": user, "p256dh": subscription.p256dh, "auth": subscription.auth}
    known = PushSubscription.objects.filter(endpoint=subscription.endpoint, **values).first()
    if known is not None:
        return known  # the page sent what is stored already: nothing changes
    for _attempt in range(2):
        try:
            with transaction.atomic():
                row, _created = PushSubscription.objects.update_or_create(
                    endpoint=subscription.endpoint, defaults=values
                )
                audit_chain.append(
                    user, "push.subscribe", object_type="push_subscription", object_uuid=row.uuid
                )
                return row
        except IntegrityError:
            continue  # the same endpoint stored at the same moment: update it
    raise IntegrityError("push subscription could not be stored")


def do_unsubscribe(*, user: User, endpoint: str) -> bool:
    """Forget ``user``'s subscription at ``endpoint``; returns whether there was one."""
    with transaction.atomic():
        deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
        if deleted:
            audit_chain.append(user, "push.unsubscribe", object_type="push_subscription")
        return bool(deleted)


def do_set_alerts(*, user: User, channel: str, digest: bool) -> None:
    with transaction.atomic():
        user.alert_channel = channel
        user.alert_digest = digest
        user.save(update_fields=["alert_channel", "alert_digest", "modified"])
        audit_chain.append(user, "alerts.update", object_type="user", object_uuid=user.uuid)
