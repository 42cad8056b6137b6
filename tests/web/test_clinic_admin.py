"""The clinic admin's pages: invitations, care teams, deactivation, and their audit trail."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils.http import urlsafe_base64_decode

from kratomwatch.clinic import access
from kratomwatch.clinic.actions.admin import (
    AdminError,
    do_add_to_care_team,
    do_invite_user,
    do_set_active,
)
from kratomwatch.clinic.models import AuditEvent, CareTeamMembership, PatientProfile, Role, User

from .conftest import Triangle

PASSWORD = "a long and unusual passphrase 42"


def invite_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": "patient",
        "username": "petra",
        "first_name": "Petra",
        "last_name": "Lind",
        "email": "petra@example.org",
        "display_name": "",
        "year_of_birth": "1975",
        "sex": "female",
        "clinicians": [],
    }
    data.update(overrides)
    return data


def link_in(text: str) -> str:
    """The path of the invitation link in an e-mail or a page."""
    match = re.search(r"https?://[^\s\"<]+/invite/[^\s\"<]+/", text)
    assert match, text
    return urlparse(match.group(0)).path


def accept(client: Client, path: str, password: str = PASSWORD) -> Any:
    """Follow an invitation link as the invited person and choose a password."""
    first = client.get(path)
    assert first.status_code == 302  # the token moves into the session
    form_url = first["Location"]
    assert client.get(form_url).status_code == 200
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def actions(**filters: Any) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).values_list("action", flat=True))


def test_the_users_page_lists_the_clinics_accounts_only(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    response = client.get(reverse("clinic_users"))
    assert response.status_code == 200
    body = response.content.decode()
    for username in ("paul", "pia", "alice", "carol", "adam"):
        assert username in body
    users = {u.username: u for u in response.context["users"]}
    for username in ("otto", "olga", "bea"):
        # As a word: three letters can occur by chance inside random ids and tokens.
        assert username not in users and not re.search(rf"\b{username}\b", body)
    assert [c.username for c in users["paul"].team] == ["alice"]
    assert users["alice"].n_patients == 1
    assert "Invite a patient" in body


def test_inviting_a_patient_sends_a_one_time_link_that_sets_a_password(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.admin)
    data = invite_data(clinicians=[str(tri.clinician.uuid), str(tri.colleague.uuid)])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("clinic_invite"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="petra@example.org")
    assert user.clinic == tri.clinic and user.role == Role.PATIENT
    assert not user.has_usable_password()
    profile = PatientProfile.objects.get(user=user)
    assert profile.display_name == "Petra Lind" and profile.year_of_birth == 1975
    assert profile.sex == "female" and profile.clinic == tri.clinic
    assert set(profile.care_team.all()) == {tri.clinician, tri.colleague}

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["petra@example.org"]
    assert re.fullmatch(r"petra-\d{4}", user.username) and user.username in message.body
    path = link_in(message.body)
    # The link names the account by its public UUID, never by its database id.
    assert urlsafe_base64_decode(path.split("/")[2]) == user.uuid.bytes

    # The admin sees the same link once, on the new user's page.
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert link_in(page.content.decode()) == path
    assert "e-mailed to petra@example.org" in page.content.decode()
    assert "/invite/" not in client.get(response["Location"]).content.decode()

    client.logout()
    done = accept(client, path)
    assert done.status_code == 302 and done["Location"] == reverse("login")
    assert client.login(username=user.username, password=PASSWORD)
    client.logout()
    # The link works once.
    again = client.get(path)
    assert again.status_code == 200 and b"This link does not work" in again.content

    assert actions(object_uuid=user.uuid) == ["user.accept_invitation", "user.invite"]
    assert AuditEvent.objects.get(action="user.invite").actor == tri.admin
    assert AuditEvent.objects.filter(action="careteam.add", patient=profile).count() == 2


def test_inviting_a_clinician_needs_an_e_mail_address(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.admin)
    data = invite_data(role="clinician", username="cleo", first_name="Cleo", email="")
    response = client.post(reverse("clinic_invite"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["email"] == ["A clinician needs an e-mail address for the invitation."]
    assert 'value="cleo"' in response.content.decode()  # what was typed is kept
    assert not User.objects.filter(username__startswith="cleo").exists()

    data["email"] = "cleo@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("clinic_invite"), data)
    assert response.status_code == 302
    cleo = User.objects.get(email="cleo@example.org")
    assert cleo.role == Role.CLINICIAN and cleo.clinic == tri.clinic
    assert not PatientProfile.objects.filter(user=cleo).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["cleo@example.org"]
    client.logout()
    assert accept(Client(), link_in(mail.outbox[0].body)).status_code == 302
    assert client.login(username=cleo.username, password=PASSWORD)


def test_a_patient_without_e_mail_gets_the_link_from_the_admin(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.admin)
    data = invite_data(email="", clinicians=[str(tri.clinician.uuid)])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("clinic_invite"), data, follow=True)
    assert not mail.outbox
    body = response.content.decode()
    assert "There is no e-mail address" in body
    assert accept(Client(), link_in(body)).status_code == 302


def test_a_patient_needs_a_care_team(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    response = client.post(reverse("clinic_invite"), invite_data())
    assert response.status_code == 400
    assert response.context["form"].errors["clinicians"] == [
        "Choose at least one clinician for the care team."
    ]
    assert "Choose at least one clinician" in response.content.decode()


@pytest.mark.parametrize("proposal", ["paul", "Paul", "otto", "olga", "nobody"])
def test_inviting_tells_nothing_about_other_accounts(
    client: Client, tri: Triangle, proposal: str
) -> None:
    """A username in use, here or in another clinic, gets the same answer as a free one."""
    client.force_login(tri.admin)
    data = invite_data(username=proposal, clinicians=[str(tri.clinician.uuid)])
    response = client.post(reverse("clinic_invite"), data, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/clinic/users/")
    new = User.objects.get(email="petra@example.org")
    assert re.fullmatch(rf"{proposal}-\d{{4}}", new.username)
    assert new.clinic == tri.clinic
    body = response.content.decode()
    assert "taken" not in body and "another clinic" not in body
    assert User.objects.filter(username__iexact=proposal).count() == (
        1 if proposal.lower() in ("paul", "otto", "olga") else 0
    )


def test_the_action_never_reuses_a_username(tri: Triangle) -> None:
    invite = {"admin": tri.admin, "clinic": tri.clinic, "role": Role.CLINICIAN}
    first = do_invite_user(username="PAUL", email="p@x.org", **invite)
    second = do_invite_user(username="PAUL", email="q@x.org", **invite)
    names = {first.user.username.lower(), second.user.username.lower(), "paul"}
    assert len(names) == 3


def test_only_clinicians_and_patients_can_be_invited(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    data = invite_data(role="clinic_admin", username="ada", email="ada@example.org")
    assert client.post(reverse("clinic_invite"), data).status_code == 400
    assert not User.objects.filter(username__startswith="ada-").exists()


def test_a_clinician_of_another_clinic_cannot_join_a_care_team_at_invitation(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.admin)
    data = invite_data(clinicians=[str(tri.clinician.uuid), str(tri.outsider.uuid)])
    response = client.post(reverse("clinic_invite"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["clinicians"] == ["Choose a clinician of this clinic."]
    assert not User.objects.filter(username__startswith="petra").exists()
    assert "olga" not in response.content.decode()  # not even offered
    data["clinicians"] = ["not-a-uuid"]
    response = client.post(reverse("clinic_invite"), data)
    assert response.context["form"].errors["clinicians"] == ["Choose a clinician of this clinic."]


def test_a_clinician_of_another_clinic_cannot_join_a_care_team(
    client: Client, tri: Triangle
) -> None:
    client.force_login(tri.admin)
    url = reverse("clinic_care_team", kwargs={"user_uuid": tri.patient.user.uuid})
    response = client.post(url, {"action": "add", "clinician": str(tri.outsider.uuid)})
    assert response.status_code == 400
    assert "Choose a clinician of this clinic." in response.content.decode()
    assert not CareTeamMembership.objects.filter(clinician=tri.outsider, patient=tri.patient)
    assert not actions(action="careteam.add")
    # Not a patient's page but the other clinic's patient: 404, nothing changes.
    url = reverse("clinic_care_team", kwargs={"user_uuid": tri.outsider_patient.user.uuid})
    response = client.post(url, {"action": "add", "clinician": str(tri.clinician.uuid)})
    assert response.status_code == 404
    assert not tri.outsider_patient.care_team.filter(pk=tri.clinician.pk).exists()
    # Neither is offered by access, whatever the page: the action takes only what it gives.
    assert tri.outsider not in access.care_team_clinicians(tri.admin)
    with pytest.raises(Http404):
        access.managed_patient(tri.other_admin, tri.patient.user.uuid)
    assert not CareTeamMembership.objects.filter(clinician=tri.outsider, patient=tri.patient)


def test_a_deactivated_clinician_cannot_join_a_care_team(tri: Triangle) -> None:
    tri.colleague.is_active = False
    tri.colleague.save()
    with pytest.raises(AdminError, match="deactivated"):
        do_add_to_care_team(admin=tri.admin, patient=tri.patient, clinician=tri.colleague)
    assert not tri.patient.care_team.filter(pk=tri.colleague.pk).exists()


def test_care_team_add_and_remove(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    url = reverse("clinic_care_team", kwargs={"user_uuid": tri.patient.user.uuid})
    page = client.get(reverse("clinic_user", kwargs={"user_uuid": tri.patient.user.uuid}))
    assert [c.username for c in page.context["care_form"].fields["clinician"].queryset] == ["carol"]
    response = client.post(url, {"action": "add", "clinician": str(tri.colleague.uuid)})
    assert response.status_code == 302
    assert set(tri.patient.care_team.all()) == {tri.clinician, tri.colleague}
    # Carol now sees Paul; after removal she no longer does.
    response = client.post(url, {"action": "add", "clinician": str(tri.colleague.uuid)})
    assert response.status_code == 400 and "already on the care team" in response.content.decode()
    response = client.post(url, {"action": "remove", "clinician": str(tri.colleague.uuid)})
    assert response.status_code == 302
    assert list(tri.patient.care_team.all()) == [tri.clinician]
    assert actions(patient=tri.patient, action__startswith="careteam.") == [
        "careteam.remove",
        "careteam.add",
    ]
    event = AuditEvent.objects.get(action="careteam.remove")
    assert event.actor == tri.admin and event.object_uuid == tri.colleague.uuid


def test_the_last_active_clinician_cannot_be_removed(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    url = reverse("clinic_care_team", kwargs={"user_uuid": tri.patient.user.uuid})
    response = client.post(url, {"action": "remove", "clinician": str(tri.clinician.uuid)})
    assert response.status_code == 400
    assert "only active clinician" in response.content.decode()
    assert list(tri.patient.care_team.all()) == [tri.clinician]


def test_a_deactivated_clinician_cannot_be_added(client: Client, tri: Triangle) -> None:
    tri.colleague.is_active = False
    tri.colleague.save()
    client.force_login(tri.admin)
    url = reverse("clinic_care_team", kwargs={"user_uuid": tri.patient.user.uuid})
    response = client.post(url, {"action": "add", "clinician": str(tri.colleague.uuid)})
    assert response.status_code == 400 and "is deactivated" in response.content.decode()
    assert list(tri.patient.care_team.all()) == [tri.clinician]


def test_deactivation_blocks_login_and_ends_sessions(client: Client, tri: Triangle) -> None:
    alice = Client()
    alice.force_login(tri.clinician)
    assert alice.get(reverse("patient_list")).status_code == 200

    client.force_login(tri.admin)
    url = reverse("clinic_user_active", kwargs={"user_uuid": tri.clinician.uuid})
    response = client.post(url, {"active": "0"}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "deactivated" in body
    assert "These patients now have no active clinician: Paul" in body
    tri.clinician.refresh_from_db()
    assert not tri.clinician.is_active
    assert User.objects.filter(pk=tri.clinician.pk).exists()  # never deleted

    assert not Client().login(username="alice", password="correct horse battery staple")
    login = Client().post(
        reverse("login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    assert login.status_code == 200 and not login.wsgi_request.user.is_authenticated
    gone = alice.get(reverse("patient_list"))
    assert gone.status_code == 302 and gone["Location"].startswith(reverse("login"))

    list_page = client.get(reverse("clinic_users")).content.decode()
    assert "No active clinician" in list_page and "Deactivated" in list_page

    response = client.post(url, {"active": "1", "back": "list"})
    assert response.status_code == 302 and response["Location"] == reverse("clinic_users")
    assert Client().login(username="alice", password="correct horse battery staple")
    assert actions(object_uuid=tri.clinician.uuid) == ["user.reactivate", "user.deactivate"]


def test_an_admin_cannot_deactivate_themself(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    url = reverse("clinic_user_active", kwargs={"user_uuid": tri.admin.uuid})
    response = client.post(url, {"active": "0"}, follow=True)
    assert "You cannot deactivate your own account" in response.content.decode()
    tri.admin.refresh_from_db()
    assert tri.admin.is_active
    assert not actions(action="user.deactivate")
    with pytest.raises(AdminError):
        do_set_active(admin=tri.admin, user=tri.admin, active=False)


def test_an_admin_cannot_touch_another_clinics_accounts(client: Client, tri: Triangle) -> None:
    client.force_login(tri.other_admin)
    for name in ("clinic_user", "clinic_user_active", "clinic_reinvite"):
        url = reverse(name, kwargs={"user_uuid": tri.clinician.uuid})
        response = client.post(url, {"active": "0"}) if name != "clinic_user" else client.get(url)
        assert response.status_code == 404
        assert b"alice" not in response.content
    tri.clinician.refresh_from_db()
    assert tri.clinician.is_active
    with pytest.raises(Http404):
        access.managed_user(tri.other_admin, tri.clinician.uuid)


def test_a_new_invitation_replaces_the_old_link(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.admin)
    data = invite_data(clinicians=[str(tri.clinician.uuid)])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("clinic_invite"), data)
    petra = User.objects.get(email="petra@example.org")
    old = link_in(mail.outbox[0].body)
    url = reverse("clinic_reinvite", kwargs={"user_uuid": petra.uuid})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "earlier links no longer work" in response.content.decode()
    new = link_in(mail.outbox[1].body)
    assert new != old and link_in(response.content.decode()) == new
    stale = Client().get(old)
    assert stale.status_code == 200 and b"This link does not work" in stale.content
    assert accept(Client(), new).status_code == 302
    # Once the password is chosen, no further invitation is needed.
    response = client.post(url, follow=True)
    assert "already chosen a password" in response.content.decode()
    assert actions(object_uuid=petra.uuid).count("user.reinvite") == 1


def test_the_link_of_a_deactivated_account_does_not_work(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("clinic_invite"), invite_data(clinicians=[str(tri.clinician.uuid)]))
    petra = User.objects.get(email="petra@example.org")
    client.post(reverse("clinic_user_active", kwargs={"user_uuid": petra.uuid}), {"active": "0"})
    response = Client().get(link_in(mail.outbox[0].body))
    assert response.status_code == 200 and b"This link does not work" in response.content


def test_the_password_must_pass_the_validators(
    client: Client, tri: Triangle, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(tri.admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("clinic_invite"), invite_data(clinicians=[str(tri.clinician.uuid)]))
    response = accept(Client(), link_in(mail.outbox[0].body), password="short")
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    assert not User.objects.get(email="petra@example.org").has_usable_password()


def test_a_clinicians_page_lists_their_patients(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    response = client.get(reverse("clinic_user", kwargs={"user_uuid": tri.clinician.uuid}))
    assert response.status_code == 200
    assert [p.display_name for p in response.context["patients"]] == ["Paul"]
    # A clinic admin sees no clinical data on a patient's page.
    response = client.get(reverse("clinic_user", kwargs={"user_uuid": tri.patient.user.uuid}))
    assert response.status_code == 200
    assert tri.finding.title.encode() not in response.content
    assert tri.product.name.encode() not in response.content


def test_a_failed_e_mail_leaves_the_invitation_and_its_link(
    tri: Triangle, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> int:
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("kratomwatch.clinic.actions.admin.send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = do_invite_user(
            admin=tri.admin,
            clinic=tri.clinic,
            username="cleo",
            role=Role.CLINICIAN,
            email="cleo@example.org",
        )
    assert invitation.mail_failed
    assert User.objects.filter(username__startswith="cleo-").exists()
    assert accept(Client(), urlparse(invitation.url).path).status_code == 302


def test_the_admin_sets_the_clinics_two_factor_requirement(client: Client, tri: Triangle) -> None:
    client.force_login(tri.admin)
    page = client.get(reverse("clinic_settings"))
    assert page.status_code == 200
    assert 'name="require_two_factor"' in page.content.decode()
    assert reverse("clinic_settings") in client.get(reverse("clinic_users")).content.decode()
    response = client.post(reverse("clinic_settings"), {"require_two_factor": "on"})
    assert response.status_code == 302
    tri.clinic.refresh_from_db()
    tri.other_clinic.refresh_from_db()
    assert tri.clinic.require_two_factor and not tri.other_clinic.require_two_factor
    assert actions(actor=tri.admin, object_uuid=tri.clinic.uuid) == ["clinic.require_two_factor"]
    assert "checked" in client.get(reverse("clinic_settings")).content.decode()
    # Saving the same again changes and records nothing.
    client.post(reverse("clinic_settings"), {"require_two_factor": "on"})
    assert len(actions(object_uuid=tri.clinic.uuid)) == 1

    # A clinician of the clinic now has to set up an authenticator app.
    other = Client()
    response = other.post(
        reverse("login"), {"username": "alice", "password": "correct horse battery staple"}
    )
    assert response["Location"] == reverse("two_factor")

    client.post(reverse("clinic_settings"), {})  # unticked
    tri.clinic.refresh_from_db()
    assert not tri.clinic.require_two_factor
    assert actions(object_uuid=tri.clinic.uuid)[0] == "clinic.allow_password_only"


@pytest.mark.parametrize("who", ["clinician", "patient"])
def test_only_an_admin_changes_the_clinics_settings(
    client: Client, tri: Triangle, who: str
) -> None:
    client.force_login(tri.users()[who])
    assert client.post(reverse("clinic_settings"), {"require_two_factor": "on"}).status_code in (
        403,
        404,
    )
    tri.clinic.refresh_from_db()
    assert not tri.clinic.require_two_factor
