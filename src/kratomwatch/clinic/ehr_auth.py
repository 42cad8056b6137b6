"""Checking the JSON Web Tokens that registered EHR clients sign.

Both ways an EHR calls KratomWatch authenticate the same way: the client signs a short-lived
JWT with its private key, and KratomWatch checks it against the public keys the clinic
registered for that client (:class:`~kratomwatch.clinic.models.EhrClient`):

- CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/#trusting-cds-clients): the EHR sends
  ``Authorization: Bearer <jwt>`` with ``iss``, ``aud`` (the service's URL), ``exp``, ``iat``
  and ``jti``;
- SMART Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html): the
  client posts a JWT assertion with ``iss`` = ``sub`` = its client id, ``aud`` = the token
  endpoint, ``exp`` (at most five minutes ahead) and ``jti``.

Checked, in order: an accepted asymmetric algorithm (never ``none`` or a shared secret), a
registered active client for ``iss``, the signature by one of its keys (``kid`` chooses when
given; a key registered with an ``alg`` signs only with that algorithm), the audience, the
expiry (a minute of clock skew allowed), ``iat`` present (CDS Hooks), a lifetime of at most
five minutes, and that the ``jti`` was never presented before (:class:`UsedJwtId`, kept until
the token expires). Every refusal says why in :attr:`TokenRefused.reason`, except that an
unknown issuer, an unknown key id and a wrong signature get the same words
(:data:`NOT_SIGNED`), so that nobody learns which issuers are registered.
"""

from __future__ import annotations

import ipaddress
import json
import math
import socket
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import EhrClient, UsedJwtId

#: RSA and elliptic-curve signatures; CDS Hooks and SMART ask for RS384 and ES384.
ALGORITHMS = ("RS384", "ES384", "RS256", "ES256", "RS512", "ES512")
#: Clock skew allowed between the client and this server.
LEEWAY = timedelta(seconds=60)
#: The longest a token may live (SMART: ``exp`` no more than five minutes in the future).
MAX_LIFETIME = timedelta(minutes=5)
#: A fetched key set is used this long before it is fetched again.
JWKS_CACHE = timedelta(hours=1)
#: An unknown ``kid`` fetches the key set again, but not more often than this.
JWKS_REFETCH = timedelta(minutes=1)
#: After a failed fetch, none is tried again for this long.
JWKS_RETRY = timedelta(minutes=1)
#: A kept key set older than this (its refresh failing) is no longer used.
JWKS_MAX_AGE = timedelta(hours=24)
MAX_TOKEN_CHARS = 16_384
#: One refusal for an unknown issuer, an unknown key id and a wrong signature, so that the
#: answer does not tell which issuers or keys are registered.
NOT_SIGNED = "The token is not signed by a registered client's key."
MAX_JWKS_BYTES = 100_000


class TokenRefused(Exception):
    """The token is not accepted; ``reason`` says why, in words fit for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadKeySet(ValueError):
    """A JWKS that cannot be registered; the message says what is wrong."""


# --------------------------------------------------------------------------- key sets


def parse_jwks(data: Any) -> list[jwt.PyJWK]:
    """The public keys of a JSON Web Key Set; :class:`BadKeySet` if it is not one.

    A key set holding a private key is refused: only the client may hold it.
    """
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            raise BadKeySet("The key set is not valid JSON.") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
        raise BadKeySet('A key set is a JSON object with a "keys" list.')
    if not data["keys"]:
        raise BadKeySet("The key set has no keys.")
    keys = []
    for index, entry in enumerate(data["keys"], start=1):
        if not isinstance(entry, Mapping):
            raise BadKeySet(f"Key {index} is not a JSON object.")
        if entry.get("kty") not in ("RSA", "EC"):
            raise BadKeySet(f"Key {index}: only RSA and EC keys are accepted (kty).")
        if any(part in entry for part in ("d", "p", "q", "dp", "dq", "qi")):
            raise BadKeySet(
                f"Key {index} is a private key. Register only the public keys; the private "
                "key stays with the EHR."
            )
        try:
            keys.append(jwt.PyJWK(dict(entry)))
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
            raise BadKeySet(f"Key {index} is not a valid public key ({exc}).") from None
    return keys


def check_jwks_url(url: str) -> None:
    """Refuse an address the server should not fetch: not ``https``, an IP address or
    ``localhost`` (the server's own network), a user name in it. :class:`BadKeySet` says why."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").strip("[]")
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise BadKeySet("The key set address is not a valid address.") from None
    if parts.username is not None or parts.password is not None or not host:
        raise BadKeySet("The key set address is not a valid address.")
    if parts.scheme == "http" and host == "127.0.0.1" and _local_allowed():
        return
    if parts.scheme != "https":
        raise BadKeySet("The key set address must be an https address.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise BadKeySet("The key set address must name a host, not an IP address.")
    if host == "localhost" or host.endswith(".localhost") or "." not in host:
        raise BadKeySet("The key set address must be a public host.")


def _local_allowed() -> bool:
    return bool(getattr(settings, "KRATOMWATCH_EHR_LOCAL_JWKS", False))


def check_jwks_host(url: str) -> None:
    """Refuse an address whose host resolves to a private, loopback, link-local, reserved or
    otherwise non-public address (the server's own network); :class:`BadKeySet` says why."""
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    if parts.scheme == "http" and host == "127.0.0.1" and _local_allowed():
        return
    try:
        found = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        raise BadKeySet("The key set address's host is not known.") from None
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not address.is_global or address.is_multicast or address.is_reserved:
            raise BadKeySet("The key set address must be a public host.")


def fetch_jwks(url: str) -> dict[str, Any]:
    """The key set published at ``url`` (no redirects followed, 5 s, at most 100 kB), from a
    host that resolves to public addresses only."""
    check_jwks_url(url)
    check_jwks_host(url)
    try:
        with requests.get(
            url,
            timeout=5,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json"},
        ) as reply:
            if reply.status_code != 200:
                raise BadKeySet(f"The key set address answered {reply.status_code}.")
            body = reply.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
    except requests.RequestException:
        raise BadKeySet("The key set address could not be reached.") from None
    if len(body) > MAX_JWKS_BYTES:
        raise BadKeySet("The key set at that address is too large.")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise BadKeySet("The key set at that address is not JSON.") from None
    parse_jwks(data)
    return dict(data)


def client_keys(client: EhrClient, *, kid: str | None, now: datetime) -> list[jwt.PyJWK]:
    """The client's public keys that may have signed a token with ``kid``.

    A published key set is fetched when none is kept, when the kept one is older than an hour,
    or (at most once a minute) when it has no key ``kid``: the client may have rotated keys.
    A failed fetch is not tried again for a minute, whatever the tokens sent meanwhile (so
    that forged tokens cannot make the server fetch over and over); until then the kept set
    serves, but never one older than a day.
    """
    if not client.jwks_url:
        return _matching(_parsed(client.jwks), kid)
    fetched_at = client.jwks_fetched_at
    fresh = fetched_at is not None and now - fetched_at <= JWKS_MAX_AGE
    keys = _parsed(client.jwks_fetched) if client.jwks_fetched and fresh else []
    stale = fetched_at is None or now - fetched_at > JWKS_CACHE
    missing = kid is not None and not _matching(keys, kid)
    wanted = stale or (missing and (fetched_at is None or now - fetched_at > JWKS_REFETCH))
    failed_at = client.jwks_failed_at
    if wanted and failed_at is not None and now - failed_at < JWKS_RETRY:
        if not keys:
            raise TokenRefused(
                "The client's key set could not be fetched; it is tried again a minute after "
                "the last attempt."
            )
    elif wanted:
        try:
            data = fetch_jwks(client.jwks_url)
        except BadKeySet as exc:
            client.jwks_failed_at = now
            client.save(update_fields=["jwks_failed_at"])
            if not keys:
                raise TokenRefused(f"The client's key set could not be fetched: {exc}") from None
        else:
            client.jwks_fetched = data
            client.jwks_fetched_at = now
            client.jwks_failed_at = None
            client.save(
                update_fields=["jwks_fetched", "jwks_fetched_at", "jwks_failed_at", "modified"]
            )
            keys = _parsed(data)
    return _matching(keys, kid)


def _parsed(data: Any) -> list[jwt.PyJWK]:
    try:
        return parse_jwks(data)
    except BadKeySet:
        return []


def _matching(keys: Iterable[jwt.PyJWK], kid: str | None) -> list[jwt.PyJWK]:
    return [k for k in keys if kid is None or k.key_id == kid]


# --------------------------------------------------------------------------- tokens


def verify(
    token: str,
    *,
    kind: str,
    audience: str | Iterable[str],
    now: datetime | None = None,
) -> tuple[EhrClient, dict[str, Any]]:
    """The registered client that signed ``token`` and the token's claims.

    ``kind`` is an :class:`~kratomwatch.clinic.models.EhrClientKind`; ``audience`` the
    address (or addresses) the token must be meant for. Raises :class:`TokenRefused`.
    """
    now = now or timezone.now()
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenRefused("No usable token was sent.")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, RecursionError):
        raise TokenRefused("The token is not a JSON Web Token.") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise TokenRefused(
            f"The token's algorithm {alg!r} is not accepted; use one of {', '.join(ALGORITHMS)}."
        )
    issuer = unverified.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise TokenRefused("The token has no issuer (iss).")
    client = (
        EhrClient.objects.filter(kind=kind, issuer=issuer, active=True)
        .select_related("clinic")
        .first()
    )
    if client is None:
        raise TokenRefused(NOT_SIGNED)
    kid = header.get("kid")
    keys = client_keys(client, kid=kid if isinstance(kid, str) else None, now=now)
    if not keys:
        raise TokenRefused(NOT_SIGNED)
    audiences = [audience] if isinstance(audience, str) else list(audience)
    required = ["iss", "aud", "exp", "jti"] + (["iat"] if kind == "cds-hooks" else [])
    claims = _decode(token, keys, alg, audiences, required)
    exp = _expiry(claims["exp"], now)
    if kind == "bulk" and claims.get("sub") != issuer:
        raise TokenRefused("The assertion's subject (sub) must be the client id, as its issuer.")
    _remember_jti(issuer, str(claims["jti"]), exp, now)
    client.last_used_at = now
    client.save(update_fields=["last_used_at"])
    return client, claims


def _decode(
    token: str, keys: list[jwt.PyJWK], alg: str, audiences: list[str], required: list[str]
) -> dict[str, Any]:
    for key in keys:
        declared = _declared_alg(key)
        if declared is not None and declared != alg:
            continue  # the key is registered for another algorithm only (RFC 7517, 4.4)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audiences,
                leeway=LEEWAY,
                options={"require": required},
            )
        except jwt.InvalidSignatureError:
            continue
        except (jwt.InvalidAlgorithmError, jwt.InvalidKeyError):
            continue  # a key of another type: try the next
        except jwt.ExpiredSignatureError:
            raise TokenRefused("The token has expired.") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused(
                f"The token is not meant for this service: its audience (aud) must be "
                f"{audiences[0]}."
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRefused(f"The token has no {exc.claim} claim.") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("The token is not valid yet (iat or nbf in the future).") from None
        except jwt.PyJWTError as exc:
            raise TokenRefused(f"The token is not valid ({exc}).") from None
        else:
            if not isinstance(claims.get("jti"), str) or not claims["jti"]:
                raise TokenRefused("The token's jti must be a non-empty string.")
            if not isinstance(claims.get("exp"), int | float):
                raise TokenRefused("The token's exp must be a number.")
            return claims
    raise TokenRefused(NOT_SIGNED)


def _declared_alg(key: jwt.PyJWK) -> str | None:
    """The ``alg`` the key was registered with, if it names one (PyJWK infers one when it does
    not, so the registered JWK is read)."""
    declared = getattr(key, "_jwk_data", {}).get("alg")
    return declared if isinstance(declared, str) else None


def _expiry(value: Any, now: datetime) -> datetime:
    """The token's expiry, refused when it lies more than five minutes (and the clock skew)
    ahead: compared as a number first, so that no huge or odd ``exp`` is ever converted."""
    too_long = TokenRefused("The token lives too long: its expiry must be within five minutes.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRefused("The token's exp must be a number.")
    if not math.isfinite(value):
        raise too_long
    if value - now.timestamp() > (MAX_LIFETIME + LEEWAY).total_seconds():
        raise too_long
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, ValueError, OSError):
        raise TokenRefused("The token's exp is not a valid time.") from None


def _remember_jti(issuer: str, jti: str, exp: datetime, now: datetime) -> None:
    """Keep the token's id until it expires; :class:`TokenRefused` if it was seen before."""
    if len(jti) > 255:
        raise TokenRefused("The token's jti is too long (at most 255 characters).")
    UsedJwtId.objects.filter(expires_at__lt=now - LEEWAY).delete()
    try:
        with transaction.atomic():
            UsedJwtId.objects.create(issuer=issuer, jti=jti, expires_at=exp + LEEWAY)
    except IntegrityError:
        raise TokenRefused("The token was already used (its jti was seen before).") from None
