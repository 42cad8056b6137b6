"""The audit trail as a hash chain: appends, append-only models, tamper detection, the
migration that chains events written before it, and the patient's "who viewed my record".

Tampering is done with portable SQL through Django's cursor, so that these tests run on
SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import html as html_lib
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse

from kratomwatch.clinic import audit_chain
from kratomwatch.clinic.audit_chain import (
    GENESIS,
    VIEW_ACTIONS,
    canonical,
    canonical_ip,
    event_hash,
    verify_chain,
)
from kratomwatch.clinic.models import AuditEvent
from kratomwatch.clinic.models.care import AuditEventImmutable

from .conftest import Triangle

TABLE = connection.ops.quote_name(AuditEvent._meta.db_table)


COLUMNS = "seq, at, actor_id, action, object_type, object_uuid, patient_id, ip, prev_hash, hash"


def sql(statement: str, params: list[Any] | None = None, column: str = "") -> None:
    """Run SQL with {t} the audit table, {cols} all its columns but id, {c} one column."""
    statement = statement.replace("{t}", TABLE).replace("{cols}", COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(statement.replace("{c}", column), params or [])


def write_events(t: Triangle, n: int) -> list[AuditEvent]:
    actions = ["patient.view", "dose.create", "report.view", "note.create", "fhir.export"]
    for i in range(n):
        audit_chain.append(
            t.clinician if i % 2 == 0 else t.patient.user,
            actions[i % len(actions)],
            patient=t.patient if i % 3 else None,
            object_type="patient",
            object_uuid=t.patient.uuid if i % 3 else None,
            ip="203.0.113.7" if i % 2 else "2001:db8::1",
        )
    return list(AuditEvent.objects.order_by("seq"))


def stored_hash(event: AuditEvent, **changes: Any) -> str:
    """The hash of a stored event, with some fields replaced, as a forger would compute it."""
    fields: dict[str, Any] = {
        "seq": event.seq,
        "at": event.at,
        "actor_uuid": event.actor.uuid if event.actor else None,
        "action": event.action,
        "object_type": event.object_type,
        "object_uuid": event.object_uuid,
        "patient_uuid": event.patient.uuid if event.patient else None,
        "ip": event.ip,
        "prev_hash": event.prev_hash,
    }
    fields.update(changes)
    return event_hash(**fields)


# --- appending ------------------------------------------------------------------------------


def test_events_are_numbered_and_chained(tri: Triangle) -> None:
    events = write_events(tri, 6)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].prev_hash == GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    for event in events:
        assert re.fullmatch(r"[0-9a-f]{64}", event.hash)
        assert stored_hash(event) == event.hash  # as read back from the database
    report = verify_chain()
    assert report.ok and report.events == 6
    assert (report.last_seq, report.last_hash) == (6, events[-1].hash)


@pytest.mark.django_db
def test_an_empty_chain_verifies() -> None:
    report = verify_chain()
    assert report.ok and report.events == 0 and report.last_seq is None


def test_the_hash_covers_every_field() -> None:
    base: dict[str, Any] = {
        "seq": 7,
        "at": datetime(2026, 3, 1, 8, 30, 0, 123456, tzinfo=UTC),
        "actor_uuid": uuid.UUID(int=1),
        "action": "patient.view",
        "object_type": "patient",
        "object_uuid": uuid.UUID(int=2),
        "patient_uuid": uuid.UUID(int=3),
        "ip": "192.0.2.1",
        "prev_hash": "a" * 64,
    }
    text = canonical(**base).decode()
    assert '"at":"2026-03-01T08:30:00.123456Z"' in text
    assert '"seq":7' in text and '"prev_hash":"' + "a" * 64 in text
    changed = {
        "seq": 8,
        "at": datetime(2026, 3, 1, 8, 30, 0, 123457, tzinfo=UTC),
        "actor_uuid": uuid.UUID(int=9),
        "action": "report.view",
        "object_type": "report",
        "object_uuid": None,
        "patient_uuid": None,
        "ip": "192.0.2.2",
        "prev_hash": "b" * 64,
    }
    original = event_hash(**base)
    for name, value in changed.items():
        assert event_hash(**{**base, name: value}) != original, name


def test_addresses_have_one_spelling() -> None:
    assert canonical_ip("2001:DB8::1") == canonical_ip("2001:0db8:0:0:0:0:0:1")
    assert canonical_ip("::ffff:1.2.3.4") == canonical_ip("::ffff:102:304")
    assert canonical_ip("::ffff:1.2.3.4") == "0000:0000:0000:0000:0000:ffff:0102:0304"
    assert canonical_ip("198.51.100.4") == "198.51.100.4"
    assert canonical_ip(None) is None and canonical_ip("") is None


def test_addresses_and_empty_fields_survive_the_database(tri: Triangle) -> None:
    for ip in ("::ffff:1.2.3.4", "2001:DB8:0::0:1", "fe80::1%eth0", "unknown", None, "10.0.0.1"):
        audit_chain.append(None, "csv.export", object_type="patient", ip=ip)
    stored = list(AuditEvent.objects.order_by("seq").values_list("ip", flat=True))
    assert stored[2] is not None and stored[3] is None and stored[4] is None
    assert verify_chain().ok


def test_a_rolled_back_event_leaves_no_gap(tri: Triangle) -> None:
    audit_chain.append(tri.clinician, "patient.view", patient=tri.patient)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_chain.append(tri.clinician, "note.create", patient=tri.patient)
        raise RuntimeError("the change failed")
    audit_chain.append(tri.clinician, "report.view", patient=tri.patient)
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "action")) == [
        (1, "patient.view"),
        (2, "report.view"),
    ]
    assert verify_chain().ok


# --- append-only ----------------------------------------------------------------------------


def test_events_refuse_to_change_or_go(tri: Triangle) -> None:
    event = write_events(tri, 2)[0]
    event.action = "nothing.happened"
    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        event.delete()
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.filter(seq=1).update(action="nothing.happened")
    with pytest.raises(AuditEventImmutable):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditEventImmutable):  # not written through the chain
        AuditEvent.objects.create(action="sneaked.in", seq=99, prev_hash="x", hash="")
    assert AuditEvent.objects.get(seq=1).action == "patient.view"
    assert AuditEvent.objects.count() == 2
    assert verify_chain().ok


# --- tampering behind the application's back ------------------------------------------------


def test_an_edited_event_is_found(tri: Triangle) -> None:
    write_events(tri, 5)
    sql("UPDATE {t} SET action = %s WHERE seq = %s", ["dose.create", 3])
    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (3, "altered")
    assert "event seq 3 was altered" in report.problem.message


# Event 4 (written by Paul, about no patient, from IPv4) gets a column of another event.
EDIT_SOURCE = {"at": 1, "actor_id": 1, "action": 1, "patient_id": 2, "ip": 1, "object_uuid": 2}


@pytest.mark.parametrize("column", sorted(EDIT_SOURCE))
def test_an_edit_of_any_column_is_found(tri: Triangle, column: str) -> None:
    write_events(tri, 5)
    source = EDIT_SOURCE[column]
    # Copy the value another event has in that column: a plausible, well-formed edit.
    sql(
        "UPDATE {t} SET {c} = (SELECT {c} FROM {t} WHERE seq = %s) WHERE seq = %s",
        [source, 4],
        column=column,
    )
    problem = verify_chain().problem
    assert problem is not None and (problem.seq, problem.kind) == (4, "altered")


def test_an_edit_that_recomputes_the_hash_breaks_the_next_link(tri: Triangle) -> None:
    events = write_events(tri, 5)
    assert events[1].action == "dose.create"
    forged = stored_hash(events[1], action="checkin.create")
    sql("UPDATE {t} SET action = %s, hash = %s WHERE seq = %s", ["checkin.create", forged, 2])
    problem = verify_chain().problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (3, "unlinked")
    assert "event seq 3 does not follow event seq 2" in problem.message


def test_a_deleted_event_is_found(tri: Triangle) -> None:
    write_events(tri, 5)
    sql("DELETE FROM {t} WHERE seq = %s", [3])
    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (4, "missing")
    assert "1 event missing after seq 2" in report.problem.message
    assert report.events == 3


def test_deleting_the_first_events_is_found(tri: Triangle) -> None:
    write_events(tri, 4)
    sql("DELETE FROM {t} WHERE seq <= %s", [2])
    problem = verify_chain().problem
    assert problem is not None and problem.kind == "missing"
    assert "2 events missing at the start" in problem.message


def test_a_deletion_hidden_by_renumbering_is_found(tri: Triangle) -> None:
    write_events(tri, 5)
    sql("DELETE FROM {t} WHERE seq = %s", [3])
    # Two steps, so that the unique seq is never violated in the middle of an UPDATE.
    sql("UPDATE {t} SET seq = seq + 1000 WHERE seq > %s", [3])
    sql("UPDATE {t} SET seq = seq - 1001 WHERE seq > %s", [1000])
    problem = verify_chain().problem
    assert problem is not None and problem.seq == 3 and problem.kind == "unlinked"


def _make_room_at(seq: int) -> None:
    sql("UPDATE {t} SET seq = seq + 1000 WHERE seq >= %s", [seq])
    sql("UPDATE {t} SET seq = seq - 999 WHERE seq >= %s", [1000])


def test_an_inserted_event_is_found_even_with_a_well_formed_hash(tri: Triangle) -> None:
    events = write_events(tri, 5)
    # A fake "report.view" after event 2, linked to it with a correctly computed hash.
    template = events[1]
    forged = stored_hash(template, seq=3, action="report.view", prev_hash=template.hash)
    _make_room_at(3)
    sql(
        "INSERT INTO {t} ({cols}) SELECT 3, at, actor_id, %s, object_type, object_uuid,"
        " patient_id, ip, hash, %s FROM {t} WHERE seq = 2",
        ["report.view", forged],
    )
    assert AuditEvent.objects.count() == 6
    problem = verify_chain().problem
    assert problem is not None
    # The forged event itself checks out; the genuine one after it no longer links.
    assert (problem.seq, problem.kind) == (4, "unlinked")


def test_an_inserted_event_with_a_made_up_hash_is_found(tri: Triangle) -> None:
    write_events(tri, 3)
    sql(
        "INSERT INTO {t} ({cols}) SELECT 4, at, actor_id, action, object_type,"
        " object_uuid, patient_id, ip, hash, %s FROM {t} WHERE seq = 3",
        ["f" * 64],
    )
    problem = verify_chain().problem
    assert problem is not None and (problem.seq, problem.kind) == (4, "altered")


def test_an_event_inserted_beyond_the_end_is_found(tri: Triangle) -> None:
    write_events(tri, 3)
    sql(
        "INSERT INTO {t} ({cols}) SELECT 9, at, actor_id, action, object_type,"
        " object_uuid, patient_id, ip, hash, hash FROM {t} WHERE seq = 3"
    )
    problem = verify_chain().problem
    assert problem is not None and (problem.seq, problem.kind) == (9, "missing")


# --- concurrent writers ---------------------------------------------------------------------


def _in_thread(target: Any) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_waits_and_links_to_the_first() -> None:
    appended, release, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                audit_chain.append(None, "first.write")
                appended.set()
                assert release.wait(30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            appended.set()

    def second() -> None:
        try:
            audit_chain.append(None, "second.write")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        done.set()

    a = _in_thread(first)
    assert appended.wait(30)
    b = _in_thread(second)
    # The second writer cannot append while the first one's transaction is open.
    assert not done.wait(1.0)
    release.set()
    a.join(30)
    b.join(30)
    assert not errors, errors
    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "action", "prev_hash"))
    assert [r[:2] for r in rows] == [(1, "first.write"), (2, "second.write")]
    assert rows[1][2] == AuditEvent.objects.get(seq=1).hash
    assert verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(8):
                with transaction.atomic():
                    audit_chain.append(None, f"{name}.{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [_in_thread(lambda n=f"w{k}": writer(n)) for k in range(4)]
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 33)
    )
    report = verify_chain()
    assert report.ok and report.events == 32


# --- events written before the chain existed ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_events_in_time_order() -> None:
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    (mine,) = [n for n in graph.nodes if n[0] == "clinic" and n[1].endswith("_audit_chain")]
    (before,) = [p for p in graph.node_map[mine].parents if p.key[0] == "clinic"]
    executor.migrate([before.key])
    old = executor.loader.project_state([before.key]).apps
    Clinic = old.get_model("clinic", "Clinic")
    User = old.get_model("clinic", "User")
    Profile = old.get_model("clinic", "PatientProfile")
    Event = old.get_model("clinic", "AuditEvent")
    clinic = Clinic.objects.create(name="Old clinic", slug="old")
    doctor = User.objects.create(username="dr.old", clinic=clinic, role="clinician")
    person = User.objects.create(username="pat.old", clinic=clinic, role="patient")
    profile = Profile.objects.create(user=person, clinic=clinic, display_name="Pat")
    for action, ip in [("patient.view", "192.0.2.9"), ("dose.create", "::1"), ("x.y", None)]:
        Event.objects.create(
            actor=doctor, action=action, object_type="patient", patient=profile, ip=ip
        )
    Event.objects.create(actor=None, action="csv.export", object_type="patient")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.action for e in events] == ["patient.view", "dose.create", "x.y", "csv.export"]
    assert [e.seq for e in events] == [1, 2, 3, 4] and events[0].prev_hash == GENESIS
    assert verify_chain().ok
    audit_chain.append(None, "after.migration")
    report = verify_chain()
    assert report.ok and report.events == 5


# --- who viewed my record -------------------------------------------------------------------


def _rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return [
        [
            html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td>(.*?)</td>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_patient_sees_who_viewed_their_record(client: Client, tri: Triangle) -> None:
    tri.clinician.first_name, tri.clinician.last_name = "Alice", "Ng"
    tri.clinician.save()
    client.force_login(tri.clinician)
    assert client.get(reverse("patient_detail", args=[tri.patient.uuid])).status_code == 200
    audit_chain.append(tri.clinician, "report.pdf", patient=tri.patient, object_type="patient")
    audit_chain.append(
        tri.clinician, "note.create", patient=tri.patient, object_type="note"
    )  # a change
    audit_chain.append(
        tri.colleague, "patient.view", patient=tri.other_patient, object_type="patient"
    )
    audit_chain.append(
        None, "csv.export", patient=tri.patient, object_type="patient", ip="10.1.2.3"
    )
    client.force_login(tri.patient.user)
    assert client.get(reverse("my_data_csv")).status_code == 200

    home = client.get(reverse("patient_home"))
    assert reverse("record_views") in home.content.decode()
    response = client.get(reverse("record_views"))
    assert response.status_code == 200
    html = response.content.decode()
    rows = _rows(html)
    assert [r[1:] for r in rows] == [
        ["You", "Patient", VIEW_ACTIONS["csv.export"]],
        ["Clinic staff, on the server's command line", "—", VIEW_ACTIONS["csv.export"]],
        ["Alice Ng", "Clinician", VIEW_ACTIONS["report.pdf"]],
        ["Alice Ng", "Clinician", VIEW_ACTIONS["patient.view"]],
    ]
    assert "carol" not in html and "Pia" not in html
    assert "10.1.2.3" not in html and "127.0.0.1" not in html  # staff addresses stay private


def test_another_patient_sees_only_their_own_views(client: Client, tri: Triangle) -> None:
    audit_chain.append(tri.clinician, "patient.view", patient=tri.patient, object_type="patient")
    client.force_login(tri.other_patient.user)
    html = client.get(reverse("record_views")).content.decode()
    assert "Nobody has viewed your record yet." in html and "alice" not in html


def test_record_views_come_in_pages_of_fifty(client: Client, tri: Triangle) -> None:
    for n in range(60):  # two people in turn: each event is a view of its own
        who = tri.clinician if n % 2 else tri.colleague
        audit_chain.append(who, "patient.view", patient=tri.patient, object_type="patient")
    client.force_login(tri.patient.user)
    first = client.get(reverse("record_views")).content.decode()
    assert len(_rows(first)) == 50 and "Page 1 of 2" in first
    second = client.get(reverse("record_views") + "?page=2").content.decode()
    assert len(_rows(second)) == 10


def test_a_page_and_what_it_loads_are_one_view(
    client: Client, tri: Triangle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patient page loads its dose-response section by a request of its own (audited
    too): the patient sees one view. The same page an hour later is another view."""
    client.force_login(tri.clinician)
    for _ in range(2):
        assert client.get(reverse("patient_detail", args=[tri.patient.uuid])).status_code == 200
        section = client.get(reverse("patient_dose_response", args=[tri.patient.uuid]))
        assert section.status_code == 200
        later = datetime.now(UTC) + timedelta(hours=1)
        monkeypatch.setattr(audit_chain.timezone, "now", lambda later=later: later)
    assert AuditEvent.objects.filter(patient=tri.patient, action="patient.view").count() == 4
    client.force_login(tri.patient.user)
    rows = _rows(client.get(reverse("record_views")).content.decode())
    assert [r[1:] for r in rows] == [
        [tri.clinician.username, "Clinician", VIEW_ACTIONS["patient.view"]]
    ] * 2
