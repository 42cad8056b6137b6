"""What every view needs: the signed-in user, the patient's own profile, the client's address.

Who may open a view is decided by :mod:`kratomwatch.clinic.access` (the view's decorator and
getters); these helpers only read what the request already carries.
"""

from __future__ import annotations

from django.http import HttpRequest

from kratomwatch.clinic import access
from kratomwatch.clinic.models import PatientProfile, User


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the server saw it (the proxy sets REMOTE_ADDR)."""
    return request.META.get("REMOTE_ADDR")


def user_of(request: HttpRequest) -> User:
    """The signed-in user of a view that requires one."""
    assert isinstance(request.user, User)
    return request.user


def patient_of(request: HttpRequest) -> tuple[User, PatientProfile]:
    """The signed-in patient and their own profile (404 for any other account)."""
    user = user_of(request)
    return user, access.own_profile(user)
