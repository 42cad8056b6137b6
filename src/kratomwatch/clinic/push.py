"""Web Push (RFC 8030) with encrypted payloads (RFC 8291) and VAPID (RFC 8292).

The server's VAPID key pair comes from the environment (``KRATOMWATCH_VAPID_PRIVATE_KEY``,
``KRATOMWATCH_VAPID_PUBLIC_KEY``) or, when unset, from the one ``VapidKey`` row, made the
first time a key is needed. A subscription is checked here before it is stored: the push
service is asked to deliver to it by the server, so only ``https`` addresses on the default
port of the browsers' push services (:data:`PUSH_SERVICES`) are taken, checked again before
each send, and a push service's redirect is not followed: nobody can make the server post
into its own network (``http://127.0.0.1`` is taken only where
``KRATOMWATCH_PUSH_LOCAL_ENDPOINTS`` is on, for tests).

A payload is JSON with ``title``, ``body`` and ``url``: it is shown on a lock screen, so it
carries no health details and no name.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from kratomwatch.clinic.language import email_language
from kratomwatch.clinic.models import PushSubscription, User, VapidKey
from kratomwatch.config import b64url_bytes, new_vapid_keys

logger = logging.getLogger(__name__)

#: Seconds a push service keeps a message for a phone that is off (a day: a reminder or an
#: alert older than that is stale).
TTL = 24 * 3600
TIMEOUT = 10
#: The push services of the browsers a patient may use, by host name (the host or any host
#: under it): Chrome, Samsung Internet, Opera and Android's Firefox builds use Firebase Cloud
#: Messaging; Firefox Mozilla's autopush; Safari Apple's; Edge Windows Push Notification
#: Services.
PUSH_SERVICES = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)


class _NoRedirects(requests.Session):
    """A push service answers a delivery itself: a redirect is refused, not followed."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


def new_key_pair() -> tuple[str, str]:
    """A new P-256 key pair: the raw private key and the uncompressed public point, base64url."""
    return new_vapid_keys()


def vapid_keys() -> tuple[str, str]:
    """The server's VAPID key pair (private, public), base64url; made and stored on first use.

    Two servers asking at once both try to store a pair; the row's fixed id lets only one in,
    and the other reads the stored pair.
    """
    given: tuple[str, str] | None = getattr(settings, "KRATOMWATCH_VAPID_KEYS", None)
    if given:
        return given
    row = VapidKey.objects.filter(pk=1).first()
    if row is None:
        private, public = new_key_pair()
        try:
            with transaction.atomic():
                row = VapidKey.objects.create(pk=1, private_key=private, public_key=public)
        except IntegrityError:
            row = VapidKey.objects.get(pk=1)
    return row.private_key, row.public_key


def public_key() -> str:
    """What the browser subscribes with (``applicationServerKey``)."""
    return vapid_keys()[1]


class BadSubscription(ValueError):
    """A subscription the browser sent is not one the server takes; the message says why."""


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def parse_subscription(body: bytes) -> Subscription:
    """A subscription from the JSON the browser's ``PushSubscription.toJSON()`` gives."""
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadSubscription(_("The subscription must be sent as JSON.")) from None
    if not isinstance(data, dict):
        raise BadSubscription(_("The subscription must be a JSON object."))
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str) or not endpoint:
        raise BadSubscription(_("The subscription has no endpoint address."))
    check_endpoint(endpoint)
    if not isinstance(keys, dict):
        raise BadSubscription(_("The subscription has no keys."))
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    point = b64url_bytes(p256dh) if isinstance(p256dh, str) and len(p256dh) <= 100 else None
    if point is None or len(point) != 65 or point[0] != 4:
        raise BadSubscription(
            _("The subscription's p256dh key must be a P-256 public key (65 bytes, base64url).")
        )
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise BadSubscription(_("The subscription's p256dh key is not a point on P-256.")) from None
    secret = b64url_bytes(auth) if isinstance(auth, str) and len(auth) <= 40 else None
    if secret is None or len(secret) != 16:
        raise BadSubscription(_("The subscription's auth secret must be 16 bytes in base64url."))
    assert isinstance(p256dh, str) and isinstance(auth, str)
    return Subscription(endpoint=endpoint, p256dh=p256dh.strip(), auth=auth.strip())


def check_endpoint(endpoint: str) -> None:
    """Refuse an address the server should not post to: not ``https``, a bare IP address or
    ``localhost`` (the server's own network), or with a user name in it."""
    if len(endpoint) > 2000 or any(c.isspace() or ord(c) < 32 for c in endpoint):
        raise BadSubscription(_("The subscription's endpoint is not a valid address."))
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise BadSubscription(_("The subscription's endpoint is not a valid address.")) from None
    if parts.username is not None or parts.password is not None or not host:
        raise BadSubscription(_("The subscription's endpoint is not a valid address."))
    if parts.scheme == "http" and host == "127.0.0.1":
        if getattr(settings, "KRATOMWATCH_PUSH_LOCAL_ENDPOINTS", False):
            return
        raise BadSubscription(_("The subscription's endpoint must be an https address."))
    if parts.scheme != "https":
        raise BadSubscription(_("The subscription's endpoint must be an https address."))
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise BadSubscription(_("The subscription's endpoint must name a push service's host."))
    if parts.port not in (None, 443) or not any(
        host == known or host.endswith("." + known) for known in PUSH_SERVICES
    ):
        raise BadSubscription(
            _("The subscription's endpoint is not a browser's push service (%(host)s).")
            % {"host": host}
        )


def payload(title: str, body: str, url: str) -> str:
    return json.dumps({"title": str(title), "body": str(body), "url": url})


def language_of(user: User) -> str:
    """The language to write to ``user`` in: the account's own choice (a patient's or a staff
    member's), else the site's."""
    return email_language(user)


class PushFailed(Exception):
    """The push service did not take the message; try again on a later run."""

    outcome: Outcome | None = None


def send(subscription: PushSubscription, data: str) -> bool:
    """Deliver ``data`` to one subscription. Returns ``True`` if the push service took it,
    ``False`` if the subscription is gone (the service answered 404 or 410); raises
    :class:`PushFailed` on any other failure."""
    try:
        check_endpoint(subscription.endpoint)  # stored before the list changed: checked again
    except BadSubscription:
        return False
    vapid = Vapid.from_raw(vapid_keys()[0].encode())
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(subscription.endpoint))
    claims: dict[str, str | int] = {
        "sub": settings.KRATOMWATCH_VAPID_SUBJECT,
        "aud": origin,
        "exp": int(timezone.now().timestamp()) + 12 * 3600,
    }
    try:
        webpush(
            subscription.info(),
            data,
            vapid_private_key=vapid,
            vapid_claims=claims,
            content_encoding="aes128gcm",
            ttl=TTL,
            timeout=TIMEOUT,
            requests_session=_NoRedirects(),
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (404, 410):
            return False
        raise PushFailed(f"push service answered {status}") from exc
    except (requests.RequestException, OSError) as exc:
        raise PushFailed(f"push service unreachable: {type(exc).__name__}") from exc
    except ValueError as exc:  # keys that cannot encrypt: the next run tries again
        raise PushFailed(f"message not encrypted: {type(exc).__name__}") from exc
    PushSubscription.objects.filter(pk=subscription.pk).update(last_success=timezone.now())
    return True


@dataclass
class Outcome:
    """What became of a message to one person: whether a push service took it, and their
    subscriptions found gone (to delete with :func:`forget_gone`, after the transaction the
    send was part of, whether or not it was kept)."""

    delivered: bool = False
    gone: list[int] = field(default_factory=list)


def send_to_user(subscriptions: list[PushSubscription], data: str) -> Outcome:
    """Deliver to every subscription of one person. ``delivered`` says whether at least one
    push service took it (a phone of theirs will show it). Raises :class:`PushFailed` if none
    took it and some failed for a reason other than the subscription being gone; the gone
    ones are then on the exception's ``outcome``."""
    outcome = Outcome()
    failure: PushFailed | None = None
    for subscription in subscriptions:
        try:
            if send(subscription, data):
                outcome.delivered = True
            else:
                outcome.gone.append(subscription.pk)
        except PushFailed as exc:
            logger.warning("push to subscription %s failed: %s", subscription.uuid, exc)
            failure = exc
    if not outcome.delivered and failure is not None:
        failure.outcome = outcome
        raise failure
    return outcome


def forget_gone(outcome: Outcome | None) -> None:
    """Delete the subscriptions a push service said are gone."""
    if outcome is not None and outcome.gone:
        PushSubscription.objects.filter(pk__in=outcome.gone).delete()
