"""A push service on 127.0.0.1 for the tests, and the browser's side of a subscription.

The receiver (a threaded ``http.server``) records what it is sent; :func:`verify_vapid`
checks what a real push service checks (RFC 8292: an ES256 JWT signed with the server's
key, for the receiver's origin, not expired) and :func:`decrypt` does what the browser does
(RFC 8291, aes128gcm, with the subscription's private key and auth secret).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from kratomwatch.clinic import push


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """What a browser keeps for one subscription: its ECDH key pair and auth secret."""

    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64(
            self.key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    def subscription(self, endpoint: str) -> dict[str, Any]:
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64(self.auth)},
        }


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class Receiver:
    """A push service on 127.0.0.1: records each delivery, answers ``status[path]`` (201)."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.status: dict[str, int] = {}
        self.location: dict[str, str] = {}  # a redirect's target, by path
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.deliveries.append(Delivery(self.path, headers, body))
                self.send_response(receiver.status.get(self.path, 201))
                if self.path in receiver.location:
                    self.send_header("Location", receiver.location[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(settings: Any) -> Iterator[Receiver]:
    """For a fixture: a receiver, with the server allowed to push to 127.0.0.1."""
    settings.KRATOMWATCH_PUSH_LOCAL_ENDPOINTS = True
    r = Receiver()
    yield r
    r.close()


def verify_vapid(delivery: Delivery, origin: str) -> dict[str, Any]:
    """Check the VAPID header as a push service does; return the JWT's claims."""
    scheme, _, params = delivery.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == push.public_key()
    header_b64, claims_b64, signature_b64 = fields["t"].split(".")
    assert json.loads(unb64(header_b64)) == {"typ": "JWT", "alg": "ES256"}
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
    raw = unb64(signature_b64)
    assert len(raw) == 64
    signature = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims: dict[str, Any] = json.loads(unb64(claims_b64))
    assert claims["aud"] == origin
    assert claims["exp"] > clock.time()
    assert claims["sub"].startswith("mailto:")
    return claims


def decrypt(delivery: Delivery, browser: Browser) -> dict[str, Any]:
    assert delivery.headers["content-encoding"] == "aes128gcm"
    assert int(delivery.headers["ttl"]) > 0
    plain = http_ece.decrypt(
        delivery.body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm"
    )
    data: dict[str, Any] = json.loads(plain)
    return data
