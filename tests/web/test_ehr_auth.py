"""The JSON Web Tokens of registered EHR clients: what is accepted and what is refused."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest

from kratomwatch.clinic import ehr_auth
from kratomwatch.clinic.ehr_auth import BadKeySet, TokenRefused
from kratomwatch.clinic.models import Clinic, EhrClient, UsedJwtId
from tests.ehr_keys import claims, new_key

AUD = "https://kw.example.org/cds-services/kratomwatch-order-sign"


@pytest.fixture
def key() -> Any:
    return new_key("ES384")


@pytest.fixture
def client(db: None, key: Any) -> EhrClient:
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    return EhrClient.objects.create(
        clinic=clinic,
        kind="cds-hooks",
        name="Epic",
        issuer="https://ehr.example.org",
        jwks=key.jwks,
    )


def test_a_token_signed_by_a_registered_key_is_accepted(client: EhrClient, key: Any) -> None:
    found, got = ehr_auth.verify(
        key.sign(claims(client.issuer, AUD)), kind="cds-hooks", audience=AUD
    )
    assert found == client
    assert got["iss"] == client.issuer
    client.refresh_from_db()
    assert client.last_used_at is not None


@pytest.mark.parametrize("alg", ["RS384", "RS256", "ES256"])
def test_rsa_and_other_curves_are_accepted(db: None, alg: str) -> None:
    key = new_key(alg)
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    EhrClient.objects.create(clinic=clinic, kind="cds-hooks", name="X", issuer="x", jwks=key.jwks)
    ehr_auth.verify(key.sign(claims("x", AUD)), kind="cds-hooks", audience=AUD)


def refused(token: str, kind: str = "cds-hooks", audience: str = AUD) -> str:
    with pytest.raises(TokenRefused) as info:
        ehr_auth.verify(token, kind=kind, audience=audience)
    return info.value.reason


def test_expired_tokens_are_refused(client: EhrClient, key: Any) -> None:
    now = int(time.time())
    token = key.sign(claims(client.issuer, AUD) | {"iat": now - 600, "exp": now - 300})
    assert "expired" in refused(token)


def test_a_replayed_token_is_refused(client: EhrClient, key: Any) -> None:
    token = key.sign(claims(client.issuer, AUD))
    ehr_auth.verify(token, kind="cds-hooks", audience=AUD)
    assert "already used" in refused(token)


def test_a_token_signed_by_another_key_is_refused(client: EhrClient, key: Any) -> None:
    impostor = new_key("ES384", kid=key.kid)
    assert refused(impostor.sign(claims(client.issuer, AUD))) == ehr_auth.NOT_SIGNED


def test_wrong_audience_unknown_issuer_and_other_kind_are_refused(
    client: EhrClient, key: Any
) -> None:
    assert "audience" in refused(key.sign(claims(client.issuer, "https://elsewhere/")))
    # An unknown issuer is refused in the same words as a wrong signature or key id.
    assert refused(key.sign(claims("https://other", AUD))) == ehr_auth.NOT_SIGNED
    assert refused(key.sign(claims(client.issuer, AUD)), kind="bulk") == ehr_auth.NOT_SIGNED
    client.active = False
    client.save()
    assert refused(key.sign(claims(client.issuer, AUD))) == ehr_auth.NOT_SIGNED


def test_tokens_without_signature_or_with_a_shared_secret_are_refused(client: EhrClient) -> None:
    body = claims(client.issuer, AUD)
    assert "algorithm" in refused(jwt.encode(body, None, algorithm="none"))
    assert "algorithm" in refused(
        jwt.encode(body, "secret-secret-secret-secret-secret", algorithm="HS256")
    )
    assert "not a JSON Web Token" in refused("abc.def")
    assert "No usable token" in refused("")


def test_a_token_living_longer_than_five_minutes_is_refused(client: EhrClient, key: Any) -> None:
    assert "too long" in refused(key.sign(claims(client.issuer, AUD, lifetime=3600)))


def test_a_token_without_jti_is_refused(client: EhrClient, key: Any) -> None:
    body = claims(client.issuer, AUD)
    del body["jti"]
    assert "jti" in refused(key.sign(body))


def test_an_unknown_kid_is_refused(client: EhrClient, key: Any) -> None:
    assert refused(key.sign(claims(client.issuer, AUD), kid="nope")) == ehr_auth.NOT_SIGNED


def test_bulk_assertions_need_the_client_id_as_subject(db: None, key: Any) -> None:
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    EhrClient.objects.create(
        clinic=clinic, kind="bulk", name="Warehouse", issuer="c1", jwks=key.jwks
    )
    token_url = "https://kw.example.org/oauth/token"
    assert "subject" in refused(key.sign(claims("c1", token_url, sub="c2")), "bulk", token_url)
    ehr_auth.verify(key.sign(claims("c1", token_url, sub="c1")), kind="bulk", audience=token_url)


def test_used_ids_are_forgotten_once_expired(client: EhrClient, key: Any) -> None:
    now = int(time.time())
    UsedJwtId.objects.create(
        issuer="x", jti="old", expires_at=ehr_auth.timezone.now() - ehr_auth.timedelta(hours=1)
    )
    ehr_auth.verify(
        key.sign(claims(client.issuer, AUD) | {"iat": now}), kind="cds-hooks", audience=AUD
    )
    assert not UsedJwtId.objects.filter(jti="old").exists()


def test_key_sets_with_private_keys_or_nonsense_are_refused(key: Any) -> None:
    private = key.public_jwk | {"d": "secret"}
    with pytest.raises(BadKeySet, match="private key"):
        ehr_auth.parse_jwks({"keys": [private]})
    with pytest.raises(BadKeySet, match="keys"):
        ehr_auth.parse_jwks({"key": []})
    with pytest.raises(BadKeySet, match="JSON"):
        ehr_auth.parse_jwks("{not json")
    with pytest.raises(BadKeySet, match="RSA and EC"):
        ehr_auth.parse_jwks({"keys": [{"kty": "oct", "k": "abc"}]})
    assert len(ehr_auth.parse_jwks(key.jwks)) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://ehr.example.org/jwks",
        "https://10.0.0.1/jwks",
        "https://[::1]/jwks",
        "https://localhost/jwks",
        "https://user:pw@ehr.example.org/jwks",
        "https://intranet/jwks",
    ],
)
def test_key_set_addresses_on_the_servers_own_network_are_refused(url: str) -> None:
    with pytest.raises(BadKeySet):
        ehr_auth.check_jwks_url(url)


def test_a_published_key_set_is_fetched_and_kept(
    client: EhrClient, key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        fetched.append(url)
        return key.jwks

    monkeypatch.setattr(ehr_auth, "fetch_jwks", fetch)
    client.jwks = {}
    client.jwks_url = "https://ehr.example.org/.well-known/jwks.json"
    client.save()
    for _ in range(2):
        ehr_auth.verify(key.sign(claims(client.issuer, AUD)), kind="cds-hooks", audience=AUD)
    assert fetched == [client.jwks_url]  # the second token used the kept set
    rotated = new_key("ES384")
    monkeypatch.setattr(ehr_auth, "fetch_jwks", lambda url: fetched.append(url) or rotated.jwks)
    client.refresh_from_db()
    client.jwks_fetched_at = client.jwks_fetched_at - ehr_auth.timedelta(minutes=2)
    client.save()
    ehr_auth.verify(rotated.sign(claims(client.issuer, AUD)), kind="cds-hooks", audience=AUD)
    assert len(fetched) == 2  # an unknown kid fetched the set again


@pytest.mark.parametrize("exp", [10**20, 1e300, float("inf"), float("nan"), -(10**20)])
def test_an_absurd_expiry_is_refused_not_an_error(client: EhrClient, key: Any, exp: Any) -> None:
    body = claims(client.issuer, AUD) | {"exp": exp}
    reason = refused(key.sign(body))
    assert "exp" in reason or "expired" in reason or "too long" in reason


def test_a_deeply_nested_token_is_refused_not_an_error(client: EhrClient) -> None:
    header = jwt.utils.base64url_encode(b'{"alg":"ES384"}').decode()
    payload = jwt.utils.base64url_encode(b"[" * 5000 + b"]" * 5000).decode()
    assert "not a JSON Web Token" in refused(f"{header}.{payload}.c2ln")
    with pytest.raises(BadKeySet, match="JSON"):
        ehr_auth.parse_jwks("[" * 100_000)


def test_a_failing_key_set_address_is_tried_once_a_minute(
    client: EhrClient, key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The address is down and the kept set is old: forged tokens do not make the server
    fetch again and again, and a kept set older than a day is not used."""
    tries: list[str] = []

    def down(url: str) -> dict[str, Any]:
        tries.append(url)
        raise BadKeySet("The key set address could not be reached.")

    monkeypatch.setattr(ehr_auth, "fetch_jwks", down)
    now = ehr_auth.timezone.now()
    client.jwks = {}
    client.jwks_url = "https://ehr.example.org/.well-known/jwks.json"
    client.jwks_fetched = key.jwks
    client.jwks_fetched_at = now - ehr_auth.timedelta(hours=2)
    client.save()
    # The kept set (two hours old) still serves while the address is down.
    ehr_auth.verify(key.sign(claims(client.issuer, AUD)), kind="cds-hooks", audience=AUD)
    forger = new_key("ES384")
    for _ in range(5):
        refused(forger.sign(claims(client.issuer, AUD)))
    assert len(tries) == 1
    client.refresh_from_db()
    assert client.jwks_failed_at is not None
    # A minute later it is tried again, once.
    client.jwks_failed_at -= ehr_auth.timedelta(seconds=61)
    client.save()
    for _ in range(3):
        refused(forger.sign(claims(client.issuer, AUD)))
    assert len(tries) == 2
    # A kept set older than a day is not used.
    client.refresh_from_db()
    client.jwks_fetched_at = now - ehr_auth.timedelta(hours=25)
    client.save()
    assert "could not be fetched" in refused(key.sign(claims(client.issuer, AUD)))
    assert len(tries) == 2


def test_a_cds_hooks_token_needs_iat(client: EhrClient, key: Any) -> None:
    body = claims(client.issuer, AUD)
    del body["iat"]
    assert "iat" in refused(key.sign(body))


def test_bulk_assertions_need_no_iat(db: None, key: Any) -> None:
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    EhrClient.objects.create(clinic=clinic, kind="bulk", name="W", issuer="c1", jwks=key.jwks)
    body = claims("c1", AUD, sub="c1")
    del body["iat"]
    ehr_auth.verify(key.sign(body), kind="bulk", audience=AUD)


def test_a_key_registered_for_one_algorithm_signs_only_with_it(db: None) -> None:
    key = new_key("RS384")
    clinic = Clinic.objects.create(name="Clinic A", slug="a")
    EhrClient.objects.create(clinic=clinic, kind="cds-hooks", name="X", issuer="x", jwks=key.jwks)
    assert key.jwks["keys"][0]["alg"] == "RS384"
    other_alg = jwt.encode(
        claims("x", AUD), key.private, algorithm="RS256", headers={"kid": key.kid}
    )
    assert refused(other_alg) == ehr_auth.NOT_SIGNED
    # Without an alg in the registered key, any accepted algorithm of its type will do.
    plain = {k: v for k, v in key.public_jwk.items() if k != "alg"}
    EhrClient.objects.filter(issuer="x").update(jwks={"keys": [plain]})
    ehr_auth.verify(
        jwt.encode(claims("x", AUD), key.private, algorithm="RS256", headers={"kid": key.kid}),
        kind="cds-hooks",
        audience=AUD,
    )


@pytest.mark.parametrize(
    "address", ["10.1.2.3", "127.0.0.1", "169.254.169.254", "192.168.0.1", "::1", "240.0.0.1"]
)
def test_a_key_set_host_resolving_to_a_private_address_is_not_fetched(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = ehr_auth.socket.AF_INET6 if ":" in address else ehr_auth.socket.AF_INET
    monkeypatch.setattr(
        ehr_auth.socket,
        "getaddrinfo",
        lambda *a, **k: [(family, ehr_auth.socket.SOCK_STREAM, 6, "", (address, 443))],
    )
    monkeypatch.setattr(
        ehr_auth.requests, "get", lambda *a, **k: pytest.fail("fetched a private address")
    )
    with pytest.raises(BadKeySet, match="public host"):
        ehr_auth.fetch_jwks("https://jwks.example.org/keys.json")


def test_a_key_set_host_resolving_to_a_public_address_is_fetched(
    key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        ehr_auth.socket,
        "getaddrinfo",
        lambda *a, **k: [(ehr_auth.socket.AF_INET, 1, 6, "", ("93.184.215.14", 443))],
    )

    class Reply:
        status_code = 200

        class raw:  # noqa: N801 - the attribute requests gives
            @staticmethod
            def read(n: int, decode_content: bool) -> bytes:
                return json.dumps(key.jwks).encode()

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *exc: Any) -> None:
            return None

    monkeypatch.setattr(ehr_auth.requests, "get", lambda *a, **k: Reply())
    assert ehr_auth.fetch_jwks("https://jwks.example.org/keys.json") == key.jwks


def test_a_local_key_set_is_fetched_only_when_the_setting_allows(settings: Any) -> None:
    settings.KRATOMWATCH_EHR_LOCAL_JWKS = True
    ehr_auth.check_jwks_host("http://127.0.0.1:8765/jwks.json")
    settings.KRATOMWATCH_EHR_LOCAL_JWKS = False
    with pytest.raises(BadKeySet, match="public host"):
        ehr_auth.check_jwks_host("http://127.0.0.1:8765/jwks.json")
