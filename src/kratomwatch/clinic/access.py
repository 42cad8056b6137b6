"""Who may see and change what. Every view and API operation asks this module, and only it.

- A patient sees only their own record.
- A clinician sees only patients of their own clinic on whose care team they are.
- A clinic admin manages the user accounts of their own clinic and sees no clinical data.
- Nothing crosses clinics. Anything not allowed answers 404, so that the existence of
  another clinic's records is not revealed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from kratomwatch.clinic.models import (
    Clinic,
    DeletionRequest,
    Finding,
    PatientProfile,
    Product,
    Role,
    User,
)

View = TypeVar("View", bound=Callable[..., HttpResponse])


def visible_to(user: User, via: str = "") -> Q | None:
    """The condition that a patient, reached through the relation path ``via`` (for example
    ``"patient__"``), is one whose clinical record ``user`` may see; ``None`` if none is."""
    if not user.is_authenticated or not user.is_active or user.clinic_id is None:
        return None
    if user.role == Role.PATIENT:
        return Q(**{f"{via}user_id": user.pk, f"{via}clinic_id": user.clinic_id})
    if user.role == Role.CLINICIAN:
        return Q(**{f"{via}clinic_id": user.clinic_id, f"{via}careteammembership__clinician": user})
    return None


def visible_patients(user: User) -> QuerySet[PatientProfile]:
    """The patients whose clinical record ``user`` may see."""
    condition = visible_to(user)
    if condition is None:
        return PatientProfile.objects.none()
    return PatientProfile.objects.filter(condition)


def patient_for(user: User, patient_uuid: uuid.UUID | str) -> PatientProfile:
    """The patient with this public id if ``user`` may see them; otherwise 404."""
    try:
        return visible_patients(user).get(uuid=patient_uuid)
    except (PatientProfile.DoesNotExist, ValueError) as exc:
        raise Http404("No such patient") from exc


def product_of(
    user: User, patient_uuid: uuid.UUID | str, product_uuid: uuid.UUID | str
) -> tuple[PatientProfile, Product | None]:
    """The patient (404 if ``user`` may not see them) and their live product with this id, or
    ``None`` if they have no such product; one query when both exist."""
    condition = visible_to(user, "patient__")
    if condition is not None:
        try:
            product = Product.objects.select_related("patient").get(
                condition, uuid=product_uuid, archived=False, patient__uuid=patient_uuid
            )
        except (Product.DoesNotExist, ValueError, ValidationError):
            pass
        else:
            return product.patient, product
    return patient_for(user, patient_uuid), None


def findings_of(user: User, patient_uuid: uuid.UUID | str) -> QuerySet[Finding]:
    """A patient's findings, for the clinicians on their care team only; otherwise 404."""
    if user.role != Role.CLINICIAN:
        raise Http404("Not a clinician account")
    return patient_for(user, patient_uuid).findings.all()


def finding_for(
    user: User, patient_uuid: uuid.UUID | str, finding_uuid: uuid.UUID | str
) -> Finding:
    """A finding of a patient ``user`` may see as a clinician; otherwise 404."""
    try:
        return findings_of(user, patient_uuid).get(uuid=finding_uuid)
    except (Finding.DoesNotExist, ValueError) as exc:
        raise Http404("No such finding") from exc


def own_profile(user: User) -> PatientProfile:
    """The signed-in patient's own profile; 404 for anyone who is not a patient."""
    if user.role != Role.PATIENT:
        raise Http404("Not a patient account")
    try:
        return visible_patients(user).get()
    except PatientProfile.DoesNotExist as exc:
        raise Http404("No patient profile") from exc


def manageable_users(user: User) -> QuerySet[User]:
    """Accounts a clinic admin may manage: those of their own clinic."""
    if user.role != Role.CLINIC_ADMIN or user.clinic_id is None or not user.is_active:
        return User.objects.none()
    return User.objects.filter(clinic_id=user.clinic_id)


def managed_clinic(user: User) -> Clinic:
    """The clinic whose accounts ``user`` manages as an active clinic admin; otherwise 404."""
    if user.role != Role.CLINIC_ADMIN or user.clinic is None or not user.is_active:
        raise Http404("Not a clinic admin account")
    return user.clinic


def managed_user(user: User, user_uuid: uuid.UUID | str) -> User:
    """An account of the admin's own clinic with this public id; otherwise 404."""
    try:
        return manageable_users(user).get(uuid=user_uuid)
    except (User.DoesNotExist, ValueError) as exc:
        raise Http404("No such user") from exc


def managed_patient(user: User, user_uuid: uuid.UUID | str) -> PatientProfile:
    """The patient profile of a patient account the admin manages; otherwise 404."""
    target = managed_user(user, user_uuid)
    try:
        return PatientProfile.objects.select_related("user").get(
            user=target, clinic_id=target.clinic_id
        )
    except PatientProfile.DoesNotExist as exc:
        raise Http404("Not a patient account") from exc


def care_team_clinicians(user: User) -> QuerySet[User]:
    """Clinicians an admin may name on a care team: those of their own clinic.

    Deactivated ones are included so that they can be taken off a team; the forms refuse
    to add them.
    """
    return manageable_users(user).filter(role=Role.CLINICIAN)


def role_required(*roles: Role) -> Callable[[View], View]:
    """Signed in and holding one of ``roles``; others get 403."""

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not isinstance(user, User) or user.role not in roles:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def deletion_requests(user: User) -> QuerySet[DeletionRequest]:
    """Deletion requests of the patients of the clinic an admin manages."""
    clinic = managed_clinic(user)
    return DeletionRequest.objects.filter(patient__clinic=clinic)


def deletion_request_for(user: User, request_uuid: uuid.UUID | str) -> DeletionRequest:
    try:
        return (
            deletion_requests(user)
            .select_related("patient__clinic", "patient__user")
            .get(uuid=request_uuid)
        )
    except (DeletionRequest.DoesNotExist, ValueError) as exc:
        raise Http404("No such request") from exc
