"""Who may see and change what. Every view and API operation asks this module, and only it.

- A patient sees only their own record.
- A clinician sees only patients of their own clinic on whose care team they are.
- A clinic admin manages the user accounts of their own clinic and sees no clinical data.
- Nothing crosses clinics.

Each use case has a getter here that hands back the object already authorized; the actions
(``clinic/actions``) take what these getters return and check no role or clinic themselves.
A getter refuses in this order:

1. 404 (``Http404``) when the object is not among those ``user`` may see at all: it does not
   exist, it is another clinic's, or the user's role never sees it. The answer is the same in
   every case, so that the existence of another clinic's records is not revealed.
2. 403 (``PermissionDenied``) when ``user`` does see the object but their role may not do
   this with it, e.g. a clinician who reads a patient's record but may not record the
   patient's doses (:func:`own_record`, :func:`product_for_dose`).

Web pages for another role answer 403 before any lookup (:func:`role_required`): the page
itself is no secret, only the records behind it. The API (``kratomwatch.api``) turns
``Http404`` and ``PermissionDenied`` into the same statuses as problem documents.

No code outside this module compares roles or clinic ids to decide access; the test
``tests/test_policy_in_access.py`` fails when some does.

About 590 lines: one short getter per use case (records, staff pages, tokens, EHR clients,
bulk export), kept in one module on purpose, so that every decision on access is in one
place to read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from kratomwatch.clinic.models import (
    ApiToken,
    BulkAccessToken,
    BulkExportFile,
    BulkExportJob,
    Certificate,
    Clinic,
    DeletionRequest,
    EhrClient,
    EhrClientKind,
    EhrPatientLink,
    Finding,
    PatientProfile,
    Product,
    ProductLot,
    Role,
    User,
)
from kratomwatch.domain.questionnaires import Instrument, load_instruments

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


def own_record(user: User, patient_uuid: uuid.UUID | str) -> PatientProfile:
    """The patient with this id, for the patient themselves to add to (their answers): 404 if
    ``user`` may not see them, 403 if ``user`` sees them but is not the patient."""
    patient = patient_for(user, patient_uuid)
    if patient.user_id != user.pk:
        raise PermissionDenied("Only the patient adds to their own record.")
    return patient


def clinician_record(user: User, patient_uuid: uuid.UUID | str) -> PatientProfile:
    """The patient with this id, for one of their clinicians to add to (results): 404 if
    ``user`` may not see them, 403 if ``user`` sees them but is not a clinician."""
    patient = patient_for(user, patient_uuid)
    if user.role != Role.CLINICIAN:
        raise PermissionDenied("Only the patient's clinicians record results.")
    return patient


def product_for_dose(
    user: User, patient_uuid: uuid.UUID | str, product_uuid: uuid.UUID | str
) -> tuple[PatientProfile, Product | None]:
    """As :func:`product_of`, for the patient themselves to record a dose of the product: 404
    if ``user`` may not see the patient, 403 if ``user`` sees them but is not the patient."""
    patient, product = product_of(user, patient_uuid, product_uuid)
    if patient.user_id != user.pk:
        raise PermissionDenied("Only the patient records their doses.")
    return patient, product


def own_product(
    user: User, patient_uuid: uuid.UUID | str, product_uuid: uuid.UUID | str
) -> tuple[PatientProfile, Product]:
    """A product of the patient's, archived or not, for the patient themselves to change:
    404 if ``user`` may not see the patient or they have no such product, 403 if ``user``
    sees them but is not the patient."""
    patient = own_record(user, patient_uuid)
    try:
        return patient, patient.products.get(uuid=product_uuid)
    except (Product.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such product") from exc


def own_live_product(user: User, product_uuid: uuid.UUID | str) -> tuple[PatientProfile, Product]:
    """The signed-in patient and their live product with this id, to add a lot to; 404 for
    anyone else and for another patient's product."""
    patient = own_profile(user)
    try:
        return patient, patient.products.get(uuid=product_uuid, archived=False)
    except (Product.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such product") from exc


def lots_of(user: User, patient: PatientProfile) -> QuerySet[ProductLot]:
    """The lots of a patient's live products, for someone who may see the patient (a patient
    from :func:`own_profile` or :func:`patient_for`); none for anyone else."""
    condition = visible_to(user, "product__patient__")
    if condition is None:
        return ProductLot.objects.none()
    return (
        ProductLot.objects.filter(condition, product__patient=patient, product__archived=False)
        .select_related("product", "certificate")
        .defer("certificate__content")
    )


def lot_for_clinician(
    user: User, patient_uuid: uuid.UUID | str, lot_uuid: uuid.UUID | str
) -> ProductLot:
    """A lot of a patient on ``user``'s care team, for a clinician to add its lab figures and
    certificate; 404 for anyone else (the patient adds theirs on their own pages)."""
    if user.role != Role.CLINICIAN:
        raise Http404("Not a clinician account")
    patient = patient_for(user, patient_uuid)
    try:
        return lots_of(user, patient).select_related("product__patient").get(uuid=lot_uuid)
    except (ProductLot.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such lot") from exc


def certificate_for(
    user: User, certificate_uuid: uuid.UUID | str
) -> tuple[Certificate, ProductLot]:
    """A lab certificate and its lot, for the patient it belongs to and the clinicians on
    their care team; 404 for anyone else (clinic admins and other clinics included)."""
    condition = visible_to(user, "product__patient__")
    if condition is None:
        raise Http404("No such certificate")
    try:
        lot = ProductLot.objects.select_related("certificate", "product__patient").get(
            condition, certificate__uuid=certificate_uuid
        )
    except (
        ProductLot.DoesNotExist,
        ProductLot.MultipleObjectsReturned,
        ValueError,
        ValidationError,
    ) as exc:
        raise Http404("No such certificate") from exc
    assert lot.certificate is not None
    return lot.certificate, lot


def product_for_lot(
    user: User, patient_uuid: uuid.UUID | str, product_uuid: uuid.UUID | str
) -> tuple[PatientProfile, Product | None]:
    """As :func:`product_of`, for the patient themselves to add a lot to their product: 404
    if ``user`` may not see the patient, 403 if ``user`` sees them but is not the patient."""
    patient, product = product_of(user, patient_uuid, product_uuid)
    if patient.user_id != user.pk:
        raise PermissionDenied("Only the patient adds lots of their products.")
    return patient, product


def findings_of(user: User, patient_uuid: uuid.UUID | str) -> QuerySet[Finding]:
    """A patient's findings, for the clinicians on their care team only; otherwise 404."""
    if user.role != Role.CLINICIAN:
        raise Http404("Not a clinician account")
    return patient_for(user, patient_uuid).findings.all()


def screening_notes_of(user: User, patient_uuid: uuid.UUID | str) -> PatientProfile:
    """The patient whose screening notes ``user`` asks for: as with findings, the clinicians
    on their care team only; otherwise 404."""
    if user.role != Role.CLINICIAN:
        raise Http404("Not a clinician account")
    return patient_for(user, patient_uuid)


def finding_for(
    user: User, patient_uuid: uuid.UUID | str, finding_uuid: uuid.UUID | str
) -> Finding:
    """A finding of a patient ``user`` may see as a clinician; otherwise 404."""
    try:
        return findings_of(user, patient_uuid).get(uuid=finding_uuid)
    except (Finding.DoesNotExist, ValueError) as exc:
        raise Http404("No such finding") from exc


def care_team_findings(user: User) -> QuerySet[Finding]:
    """The findings of every patient on ``user``'s care teams; none for anyone not a clinician."""
    if user.role != Role.CLINICIAN:
        return Finding.objects.none()
    return Finding.objects.filter(patient__in=visible_patients(user))


def alerted_clinicians(patient: PatientProfile) -> QuerySet[User]:
    """The clinicians told of a patient's new findings: the active clinicians of the patient's
    clinic on their care team (those who may see the finding)."""
    return User.objects.filter(
        role=Role.CLINICIAN,
        is_active=True,
        clinic_id=patient.clinic_id,
        careteammembership__patient=patient,
    ).distinct()


def digest_clinicians() -> QuerySet[User]:
    """The clinicians who asked for a daily digest of their patients' new findings."""
    return User.objects.filter(
        role=Role.CLINICIAN, is_active=True, clinic__isnull=False, alert_digest=True
    ).exclude(email="")


def care_team_finding(user: User, finding_uuid: uuid.UUID | str) -> Finding:
    """A finding, by its id alone, of a patient on ``user``'s care teams, to acknowledge or
    resolve; 404 for anyone else (patients included: findings are for their clinicians)."""
    try:
        return care_team_findings(user).select_related("patient").get(uuid=finding_uuid)
    except (Finding.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such finding") from exc


def own_profile(user: User) -> PatientProfile:
    """The signed-in patient's own profile; 404 for anyone who is not a patient."""
    if user.role != Role.PATIENT:
        raise Http404("Not a patient account")
    try:
        return visible_patients(user).get()
    except PatientProfile.DoesNotExist as exc:
        raise Http404("No patient profile") from exc


def own_profile_if_patient(user: User) -> PatientProfile | None:
    """The account's own patient profile, or None for staff (e.g. to choose the language of
    a page or an e-mail)."""
    if user.role != Role.PATIENT:
        return None
    return getattr(user, "patient_profile", None)


def start_page(user: User) -> str | None:
    """The name of the page ``user`` starts on, by role; ``None`` for an account with none."""
    if user.role == Role.PATIENT:
        return "patient_home"
    if user.role == Role.CLINICIAN:
        return "patient_list"
    if user.role == Role.CLINIC_ADMIN:
        return "clinic_users"
    return None


def is_clinic_staff(user: User) -> bool:
    """A clinician or a clinic admin: their clinic may require them to log in with a second
    factor."""
    return user.role in (Role.CLINICIAN, Role.CLINIC_ADMIN)


def own_settings_page(user: User) -> str | None:
    """The page where a clinician or clinic admin keeps their own settings (alerts, language):
    "My alerts" or the clinic settings; ``None`` for anyone else."""
    if user.role == Role.CLINICIAN:
        return "alert_settings"
    if user.role == Role.CLINIC_ADMIN:
        return "clinic_settings"
    return None


def views_are_audited(user: User) -> bool:
    """Whether ``user``'s views of a patient's pages go in the audit trail: everyone's but a
    patient's (a patient looking at their own record is not recorded)."""
    return user.role != Role.PATIENT


def instrument_definitions(user: User) -> Mapping[str, Instrument]:
    """The questionnaires as definitions (items, answers allowed, scoring, licence), by id.

    They are no one's record: every active account reads them all, whatever its role or
    clinic. Answers to them are records, read through the getters of their patient."""
    if not user.is_authenticated or not user.is_active:
        return {}
    return load_instruments()


def own_tokens(user: User) -> QuerySet[ApiToken]:
    """The API tokens ``user`` manages on their tokens page: their own, whatever their role.

    A token acts as its owner and no further: what it may read or change is what this module
    allows the owner (a clinic admin's token sees no clinical records, as the admin does not)."""
    if not user.is_authenticated or not user.is_active:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def own_token(user: User, token_uuid: uuid.UUID | str) -> ApiToken:
    """One of ``user``'s own tokens; 404 for anyone else's, or none."""
    try:
        return own_tokens(user).get(uuid=token_uuid)
    except (ApiToken.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such token") from exc


INVITABLE_ROLES = (Role.CLINICIAN, Role.PATIENT)
"""The roles a clinic admin may give the accounts they open: never that of an admin."""


def _is_clinic_admin(user: User) -> bool:
    return user.role == Role.CLINIC_ADMIN and user.clinic_id is not None and user.is_active


def manageable_users(user: User) -> QuerySet[User]:
    """Accounts a clinic admin may manage: those of their own clinic."""
    if not _is_clinic_admin(user):
        return User.objects.none()
    return User.objects.filter(clinic_id=user.clinic_id)


def managed_patients(user: User) -> QuerySet[PatientProfile]:
    """The patient profiles of the clinic a clinic admin manages (for names and care teams)."""
    if not _is_clinic_admin(user):
        return PatientProfile.objects.none()
    return PatientProfile.objects.filter(clinic_id=user.clinic_id)


def managed_clinic(user: User) -> Clinic:
    """The clinic whose accounts ``user`` manages as an active clinic admin; otherwise 404."""
    if not _is_clinic_admin(user) or user.clinic is None:
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


def managed_profile(user: User, target: User) -> PatientProfile | None:
    """The patient profile of ``target``, an account from :func:`managed_user`, if it is a
    patient's; ``None`` for a clinician's or an admin's."""
    if target.role != Role.PATIENT:
        return None
    return managed_patient(user, target.uuid)


def patients_of_clinician(user: User, target: User) -> QuerySet[PatientProfile] | None:
    """For ``target``, a clinician account from :func:`managed_user`: the patients of the
    admin's clinic with them on the care team. ``None`` for a patient's or an admin's account."""
    if target.role != Role.CLINICIAN:
        return None
    return managed_patients(user).filter(careteammembership__clinician=target)


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
    """A deletion request of a patient of the admin's clinic, to handle; otherwise 404."""
    try:
        return (
            deletion_requests(user)
            .select_related("patient__clinic", "patient__user")
            .get(uuid=request_uuid)
        )
    except (DeletionRequest.DoesNotExist, ValueError) as exc:
        raise Http404("No such request") from exc


# --------------------------------------------------------------------------- EHR clients


def ehr_clients(user: User) -> QuerySet[EhrClient]:
    """The EHR clients of the clinic an active clinic admin manages; none for anyone else."""
    if not _is_clinic_admin(user):
        return EhrClient.objects.none()
    return EhrClient.objects.filter(clinic_id=user.clinic_id)


def ehr_client_for(user: User, client_uuid: uuid.UUID | str) -> EhrClient:
    """One EHR client of the admin's clinic, to see or deactivate; otherwise 404."""
    try:
        return ehr_clients(user).get(uuid=client_uuid)
    except (EhrClient.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such EHR client") from exc


def ehr_issuer_registered_in(clinic: Clinic, kind: str, issuer: str) -> bool:
    """Whether ``issuer`` names an active client of ``clinic`` (the admin's own): only then may
    a refused registration say it is already registered. That another clinic registered it
    is never told."""
    return EhrClient.objects.filter(
        clinic_id=clinic.pk, kind=kind, issuer=issuer, active=True
    ).exists()


def ehr_linked_patient(client: EhrClient, ehr_patient_id: str) -> PatientProfile | None:
    """The patient an EHR client's call is about: the one the client's clinic linked to this
    EHR patient id for this very client, of that clinic, while the client is active. ``None``
    when there is no such link: nothing is guessed, and another clinic's patient (even one
    linked by that clinic's own client) is never reached."""
    if not client.active:
        return None
    link = (
        EhrPatientLink.objects.filter(
            client=client,
            ehr_patient_id=ehr_patient_id,
            patient__clinic_id=client.clinic_id,
        )
        .select_related("patient")
        .first()
    )
    return link.patient if link is not None else None


def ehr_links_patient(user: User, patient_uuid: uuid.UUID | str) -> PatientProfile:
    """The patient whose EHR ids ``user`` sets or removes: only a clinician on the patient's
    care team; 404 for anyone else. A clinic admin registers EHR clients with keys of their
    choosing, so an admin who could also link patients could read any record through a CDS
    Hooks call: linking is therefore a clinical act, not an administrative one."""
    if user.role != Role.CLINICIAN:
        raise Http404("No such patient")
    return patient_for(user, patient_uuid)


def ehr_link_clients(patient: PatientProfile) -> QuerySet[EhrClient]:
    """The active CDS Hooks clients of the patient's clinic, to set an EHR id for."""
    return EhrClient.objects.filter(clinic_id=patient.clinic_id, kind="cds-hooks", active=True)


def ehr_links_of(patient: PatientProfile) -> QuerySet[EhrPatientLink]:
    """The EHR ids of ``patient`` (from :func:`ehr_links_patient`) for their clinic's clients."""
    return EhrPatientLink.objects.filter(
        patient=patient, client__clinic_id=patient.clinic_id
    ).select_related("client")


def ehr_link_for(patient: PatientProfile, link_uuid: uuid.UUID | str) -> EhrPatientLink:
    """One EHR id of ``patient`` (from :func:`ehr_links_patient`), to remove; otherwise 404."""
    try:
        return ehr_links_of(patient).get(uuid=link_uuid)
    except (EhrPatientLink.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such link") from exc


# --------------------------------------------------------------------------- bulk export
# A bulk client (SMART Backend Services) acts for its own clinic only: it sees that clinic's
# patients and the export jobs it started itself, never another client's or clinic's.


def bulk_token(token_hash: str, now: datetime) -> BulkAccessToken | None:
    """The unexpired access token with this SHA-256, of an active bulk client; else ``None``."""
    return (
        BulkAccessToken.objects.filter(
            token_hash=token_hash,
            expires_at__gt=now,
            client__active=True,
            client__kind=EhrClientKind.BULK,
        )
        .select_related("client__clinic")
        .first()
    )


def bulk_export_clinic(token: BulkAccessToken, group_uuid: uuid.UUID | None) -> Clinic:
    """The clinic an export by ``token``'s client reads: its own. A Group id (the clinic's
    UUID) of any other clinic, or of none, is 404."""
    clinic = token.client.clinic
    if group_uuid is not None and group_uuid != clinic.uuid:
        raise Http404("No such group")
    return clinic


def bulk_export_patients(job: BulkExportJob) -> QuerySet[PatientProfile]:
    """The patients an export job writes: those of the job's clinic, which is its client's."""
    return PatientProfile.objects.filter(clinic_id=job.clinic_id, clinic__ehr_clients=job.client_id)


def bulk_job_for(token: BulkAccessToken, job_uuid: uuid.UUID | str) -> BulkExportJob:
    """An export job started by ``token``'s client; 404 for any other client's, or none."""
    try:
        return BulkExportJob.objects.get(uuid=job_uuid, client=token.client)
    except (BulkExportJob.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such export") from exc


def bulk_file_for(
    token: BulkAccessToken, job_uuid: uuid.UUID | str, file_uuid: uuid.UUID | str
) -> BulkExportFile:
    """An output file of a job ``token``'s client started; 404 for any other."""
    try:
        # The content is read once, when it is sent (``views.bulk._lines``).
        return (
            BulkExportFile.objects.select_related("job")
            .defer("content")
            .get(uuid=file_uuid, job__uuid=job_uuid, job__client=token.client)
        )
    except (BulkExportFile.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404("No such file") from exc
