"""API tests use the web's authorization triangle, with a token per member."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kratomwatch.api.auth import create_token
from kratomwatch.clinic.models import TokenScope
from tests.web.conftest import Triangle, fast_passwords, lockout_only_where_tested, tri

__all__ = ["Triangle", "fast_passwords", "lockout_only_where_tested", "tri"]

Call = Callable[..., Any]


class Api:
    """A test client that sends a bearer token, and JSON bodies."""

    def __init__(self, client: Client, secret: str | None) -> None:
        self.client = client
        self.secret = secret

    def _headers(self, key: str | None) -> dict[str, str]:
        headers = {}
        if self.secret is not None:
            headers["Authorization"] = f"Bearer {self.secret}"
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, headers=self._headers(None))

    def post(self, path: str, body: Any, key: str | None = "k1") -> Any:
        return self.client.post(
            path, body, content_type="application/json", headers=self._headers(key)
        )


@pytest.fixture
def api_as(tri: Triangle, client: Client) -> Callable[..., Api]:
    def make(who: str, scope: str = TokenScope.WRITE) -> Api:
        if who == "anonymous":
            return Api(client, None)
        return Api(client, create_token(tri.users()[who], "test", scope=scope).secret)

    return make
