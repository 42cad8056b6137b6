"""EHR clients and patient links: registering, deactivating, linking, and auditing calls.

Each change is one transaction with its audit event. The objects come from
:mod:`kratomwatch.clinic.access`, which has decided who may change them.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from kratomwatch.clinic import access, audit_chain
from kratomwatch.clinic.models import (
    Clinic,
    EhrClient,
    EhrClientKind,
    EhrPatientLink,
    PatientProfile,
    User,
)


class EhrError(ValueError):
    """The change cannot be made; the message says why, in words for the person."""


def new_client_id() -> str:
    """A client id for a bulk-export client: random, shown to the admin to give the EHR."""
    return "kw-" + secrets.token_urlsafe(18)


def do_register_ehr_client(
    *,
    admin: User,
    clinic: Clinic,
    kind: str,
    name: str,
    issuer: str,
    jwks: dict[str, Any] | None,
    jwks_url: str,
    scopes: str = "",
    ip: str | None = None,
) -> EhrClient:
    """Register a client the clinic trusts. A bulk-export client gets a new client id as its
    issuer; a CDS Hooks client keeps the issuer the EHR signs with."""
    if kind == EhrClientKind.BULK:
        issuer = new_client_id()
    try:
        with transaction.atomic():
            client = EhrClient.objects.create(
                clinic=clinic,
                kind=kind,
                name=name,
                issuer=issuer,
                jwks=jwks or {},
                jwks_url=jwks_url,
                scopes=scopes if kind == EhrClientKind.BULK else "",
                created_by=admin,
            )
            audit_chain.append(
                admin, "ehr_client.create", object_type="ehr_client", object_uuid=client.uuid, ip=ip
            )
    except IntegrityError:
        if access.ehr_issuer_registered_in(clinic, kind, issuer):
            raise EhrError(
                gettext("A client with this issuer is already registered here.")
            ) from None
        # Registered by another clinic: say nothing about who, or whether.
        raise EhrError(
            gettext(
                "This issuer cannot be registered here; if it is yours, ask KratomWatch's operator."
            )
        ) from None
    return client


def do_deactivate_ehr_client(*, admin: User, client: EhrClient, ip: str | None = None) -> None:
    """Stop trusting a client: its tokens are refused from now on. Nothing is deleted."""
    with transaction.atomic():
        if not client.active:
            return
        client.active = False
        client.deactivated_at = timezone.now()
        client.save(update_fields=["active", "deactivated_at", "modified"])
        audit_chain.append(
            admin, "ehr_client.deactivate", object_type="ehr_client", object_uuid=client.uuid, ip=ip
        )


def do_link_ehr_patient(
    *,
    user: User,
    patient: PatientProfile,
    client: EhrClient,
    ehr_patient_id: str,
    ip: str | None = None,
) -> EhrPatientLink:
    """Set the EHR's id for the patient (replacing the one set before for this client)."""
    try:
        with transaction.atomic():
            link, _created = EhrPatientLink.objects.update_or_create(
                client=client,
                patient=patient,
                defaults={"ehr_patient_id": ehr_patient_id, "created_by": user},
            )
            audit_chain.append(
                user,
                "ehr_link.set",
                patient=patient,
                object_type="ehr_patient_link",
                object_uuid=link.uuid,
                ip=ip,
            )
    except IntegrityError:
        raise EhrError(
            "This EHR id is already linked to another patient for this EHR client."
        ) from None
    return link


def do_unlink_ehr_patient(*, user: User, link: EhrPatientLink, ip: str | None = None) -> None:
    with transaction.atomic():
        audit_chain.append(
            user,
            "ehr_link.remove",
            patient=link.patient,
            object_type="ehr_patient_link",
            object_uuid=link.uuid,
            ip=ip,
        )
        link.delete()


#: Why a CDS Hooks call was refused, as recorded in its audit event's ``object_type``.
CDS_REFUSALS = {
    "unknown-service": "refused:unknown-service",  # no such service id (404)
    "token": "refused:token",  # no token, or one not accepted (401)
    "request": "refused:request",  # the body is not a call the service answers (400)
}


def do_audit_cds_call(
    *,
    client: EhrClient | None,
    action: str,
    patient: PatientProfile | None = None,
    ip: str | None = None,
    refusal: str = "",
) -> None:
    """Record one CDS Hooks call: ``cds.<hook>`` when accepted (``object_type``
    ``ehr_client``), ``cds.refused`` when not, with ``object_type`` saying why
    (:data:`CDS_REFUSALS`). ``object_uuid`` is the calling client's when it is known."""
    object_type = CDS_REFUSALS[refusal] if refusal else "ehr_client"
    with transaction.atomic():
        audit_chain.append(
            None,
            action,
            patient=patient,
            object_type=object_type,
            object_uuid=client.uuid if client is not None else None,
            ip=ip,
        )
