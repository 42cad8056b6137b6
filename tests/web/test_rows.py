"""Written-out SQL (kratomwatch.clinic.rows) reads and stores exactly what the ORM does."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from kratomwatch.clinic import access, rows
from kratomwatch.clinic.models import DoseEntry, PatientProfile, Product, User

from .conftest import ALONE_OR_INSIDE, Triangle


def _fields(obj: Any) -> dict[str, tuple[type, Any]]:
    return {
        f.attname: (type(getattr(obj, f.attname)), getattr(obj, f.attname))
        for f in type(obj)._meta.concrete_fields
    }


def _read(model: type[Any], pk: int) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(model, 't')} FROM {rows.table(model)} t WHERE t.id = %s",  # noqa: S608
            [pk],
        )
        return rows.instance(model, cursor.fetchone())


def test_instances_made_from_rows_are_the_orms(tri: Triangle) -> None:
    Product.objects.filter(pk=tri.product.pk).update(
        mitragynine_mg_per_g=Decimal("15.125"), extract_ratio=Decimal("10.50"), archived=True
    )
    PatientProfile.objects.filter(pk=tri.patient.pk).update(
        screening_due_at=timezone.now(), year_of_birth=1970, change_count=7
    )
    dose = tri.patient.doses.create(
        product=tri.product,
        taken_at=timezone.now() - timedelta(hours=2),
        amount=Decimal("2.500"),
        unit="g",
        leaf_equivalent_g=Decimal("2.5"),
        confirmed_warnings=["dose_high"],
        idempotency_key="k",
    )
    for model, pk in ((Product, tri.product.pk), (PatientProfile, tri.patient.pk),
                      (DoseEntry, dose.pk)):  # fmt: skip
        made = _read(model, pk)
        assert _fields(made) == _fields(model.objects.get(pk=pk)), model.__name__
        assert not made._state.adding


def test_an_insert_stores_what_save_stores(tri: Triangle) -> None:
    values: dict[str, Any] = {
        "patient": tri.patient,
        "product": tri.product,
        "taken_at": timezone.now() - timedelta(minutes=5),
        "amount": Decimal("1.250"),
        "unit": "g",
        "leaf_equivalent_g": Decimal("1.25"),
        "mitragynine_mg": Decimal("18.750"),
        "confirmed_warnings": ["dose_high", "sooner_than_usual"],
        "source": "api",
        "entered_by": tri.patient.user,
    }
    saved = DoseEntry.objects.create(idempotency_key="orm", **values)
    written = DoseEntry(idempotency_key="rows", **values)
    with transaction.atomic():
        [returned] = rows.run([rows.insert(written)])
        rows.inserted(written, returned)
    assert written.pk is not None and not written._state.adding
    assert written.created is not None and written.modified is not None  # set as save() would
    same = {"id", "uuid", "created", "modified", "idempotency_key"}
    stored = DoseEntry.objects.get(pk=written.pk)
    assert stored.uuid == written.uuid and stored.created == written.created
    orm = {k: v for k, v in _fields(DoseEntry.objects.get(pk=saved.pk)).items() if k not in same}
    assert {k: v for k, v in _fields(stored).items() if k not in same} == orm


def test_statements_run_together_in_order(tri: Triangle) -> None:
    table = rows.table(PatientProfile)
    before = PatientProfile.objects.get(pk=tri.patient.pk).change_count
    with transaction.atomic():
        results = rows.run(
            [
                (f"UPDATE {table} SET change_count = change_count + %s WHERE id = %s",  # noqa: S608
                 [5, tri.patient.pk]),
                (f"SELECT change_count FROM {table} WHERE id = %s", [tri.patient.pk]),  # noqa: S608
            ]
        )  # fmt: skip
    assert results == [None, (before + 5,)]


def _change_count(pk: int) -> int:
    return int(PatientProfile.objects.values_list("change_count", flat=True).get(pk=pk))


@ALONE_OR_INSIDE
def test_read_then_write_writes_what_its_read_decides(tri: Triangle, alone: bool) -> None:
    """The second batch is made from the first's results, both in one transaction: on
    PostgreSQL outside any transaction, BEGIN goes with the first and COMMIT with the
    second; the counts of affected rows come back with the rows."""
    from django.test.utils import CaptureQueriesContext

    table = rows.table(PatientProfile)
    pk = tri.patient.pk
    before = _change_count(pk)
    seen: list[list[rows.Result]] = []

    def then(read: list[rows.Result]) -> list[rows.Statement]:
        seen.append(read)
        (count,) = read[1].rows[0]
        return [(f"UPDATE {table} SET change_count = %s WHERE id = %s RETURNING change_count",  # noqa: S608
                 [count * 10, pk])]  # fmt: skip

    with CaptureQueriesContext(connection) as sent:
        written = rows.read_then_write(
            [
                (f"UPDATE {table} SET change_count = change_count + 1 WHERE id = %s", [pk]),  # noqa: S608
                (f"SELECT change_count FROM {table} WHERE id = %s", [pk]),  # noqa: S608
            ],
            then,
        )
    [read] = seen
    assert read[0].count == 1 and read[0].rows == []
    assert read[1].rows == [(before + 1,)]
    assert written[0].first == ((before + 1) * 10,)
    assert _change_count(pk) == (before + 1) * 10
    scripted = alone and connection.vendor == "postgresql"
    texts = [q["sql"] for q in sent.captured_queries]
    assert any(t.startswith("BEGIN; ") for t in texts) is scripted
    assert any(t.endswith("; COMMIT") for t in texts) is scripted


@ALONE_OR_INSIDE
@pytest.mark.parametrize("failing", ["then", "database"])
def test_read_then_write_rolls_back_both_batches(tri: Triangle, alone: bool, failing: str) -> None:
    from django.db import DatabaseError

    table = rows.table(PatientProfile)
    pk = tri.patient.pk
    before = _change_count(pk)

    def then(read: list[rows.Result]) -> list[rows.Statement]:
        if failing == "then":
            raise LookupError("decided not to write")
        return [
            (f"UPDATE {table} SET change_count = 0 WHERE id = %s", [pk]),  # noqa: S608
            ("SELECT * FROM no_such_table", []),
        ]

    first = [(f"UPDATE {table} SET change_count = change_count + 1 WHERE id = %s", [pk])]  # noqa: S608
    with pytest.raises(LookupError if failing == "then" else DatabaseError):
        if alone:
            rows.read_then_write(first, then)
        else:
            with transaction.atomic():
                rows.read_then_write(first, then)
    assert _change_count(pk) == before
    if alone and connection.vendor == "postgresql":
        from psycopg.pq import TransactionStatus

        assert connection.connection.info.transaction_status == TransactionStatus.IDLE


@pytest.mark.django_db(transaction=True)
def test_read_then_write_keeps_djangos_transaction_for_on_commit(tri: Triangle) -> None:
    """With ``on_commit=True`` the callbacks ``then`` registers run after the commit, on
    either database."""
    from django.db import transaction as django_transaction

    table = rows.table(PatientProfile)
    pk = tri.patient.pk
    ran: list[int] = []

    def then(read: list[rows.Result]) -> list[rows.Statement]:
        django_transaction.on_commit(lambda: ran.append(_change_count(pk)))
        assert ran == []  # not yet: the write is not committed
        return [(f"UPDATE {table} SET change_count = 41 WHERE id = %s", [pk])]  # noqa: S608

    rows.read_then_write([(f"SELECT id FROM {table} WHERE id = %s", [pk])], then, on_commit=True)  # noqa: S608
    assert ran == [41]


def _orm_product_of(user: User, patient_uuid: Any, product_uuid: Any) -> Any:
    """product_of as the generic access rule answers it (the clinicians' path)."""
    condition = access.visible_to(user, "patient__")
    if condition is not None:
        found = Product.objects.filter(
            condition, uuid=product_uuid, archived=False, patient__uuid=patient_uuid
        ).first()
        if found is not None:
            return found.patient, found
    return access.patient_for(user, patient_uuid), None


def _answer(call: Any, *args: Any) -> Any:
    try:
        patient, product = call(*args)
    except Http404:
        return "404"
    return patient.pk, None if product is None else product.pk


def test_a_patients_look_up_of_patient_and_product_follows_the_access_rule(
    tri: Triangle,
) -> None:
    archived = tri.patient.products.create(name="Old", form="leaf_powder", archived=True)
    theirs = tri.other_patient.products.create(name="Theirs", form="leaf_powder")
    outside = tri.outsider_patient.products.create(name="Outside", form="capsule")
    patients = [tri.patient, tri.other_patient, tri.outsider_patient]
    products = [tri.product, archived, theirs, outside]
    users = list(tri.users().values())
    inactive = tri.other_patient.user
    inactive.is_active = False
    inactive.save()
    moved = User.objects.get(pk=tri.outsider_patient.user.pk)
    moved.clinic = tri.clinic  # an account whose clinic is not its profile's
    users += [inactive, moved]
    uuids = [p.uuid for p in products] + [uuid.uuid4()]
    checked = 0
    for user, patient, product_uuid in itertools.product(users, patients, uuids):
        fast = _answer(access.product_of, user, patient.uuid, product_uuid)
        assert fast == _answer(_orm_product_of, user, patient.uuid, product_uuid), (
            user.username,
            patient.pk,
            product_uuid,
        )
        checked += 1
    assert checked > 100
    # And the patient's own live product comes back whole, with its patient.
    patient, product = access.product_of(tri.patient.user, tri.patient.uuid, tri.product.uuid)
    assert product is not None and product.patient is patient
    assert _fields(product) == _fields(Product.objects.get(pk=tri.product.pk))
    assert _fields(patient) == _fields(PatientProfile.objects.get(pk=tri.patient.pk))


@pytest.mark.parametrize("bad", ["", "x" * 40, str(uuid.uuid4())[:-1]])
def test_a_malformed_product_id_finds_no_product(tri: Triangle, bad: str) -> None:
    assert access.product_of(tri.patient.user, tri.patient.uuid, bad) == (tri.patient, None)


def test_update_many_writes_what_bulk_update_writes(tri: Triangle) -> None:
    from kratomwatch.clinic.models import Finding

    twin = Finding.objects.get(pk=tri.finding.pk)
    twin.pk = None
    twin.uuid = uuid.uuid4()
    twin.fingerprint = "twin"
    twin.save()
    pair = list(Finding.objects.filter(pk__in=[tri.finding.pk, twin.pk]).order_by("pk"))
    fields = ["title", "severity", "references", "triggers", "active", "last_seen", "modified"]
    later = timezone.now() + timedelta(minutes=3)
    for finding, how in zip(pair, ("orm", "rows"), strict=True):
        finding.title = "Changed title ✓"
        finding.severity = "high"
        finding.references = [{"id": "pmid:1", "title": "A"}]
        finding.triggers = {"doses": ["a", "b"], "total_g": 12.5}
        finding.active = False
        finding.last_seen = later
        finding.modified = later
        if how == "orm":
            Finding.objects.bulk_update([finding], fields)
        else:
            rows.update_many([finding], fields)
    orm, written = (_fields(Finding.objects.get(pk=f.pk)) for f in pair)
    differ = {"id", "uuid", "fingerprint", "created"}
    assert {k: v for k, v in written.items() if k not in differ} == {
        k: v for k, v in orm.items() if k not in differ
    }
    assert written["title"] == (str, "Changed title ✓") and written["active"] == (bool, False)


def test_selected_values_are_what_values_list_gives(tri: Triangle) -> None:
    from datetime import UTC, datetime

    from kratomwatch.clinic.models import QuestionnaireResponse

    times = [
        datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # around a DST change in Europe
        datetime(2026, 11, 24, 7, 57, 4, 295490, tzinfo=UTC),  # PostgreSQL writes 5 digits
        datetime(2026, 11, 24, 23, 0, tzinfo=UTC),  # no fraction at all
        datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    ]
    for i, at in enumerate(times):
        tri.patient.doses.create(
            product=tri.product, taken_at=at, amount=Decimal("1.125"), unit="g",
            leaf_equivalent_g=None if i else Decimal("1.125"), idempotency_key=f"t{i}",
        )  # fmt: skip
    cases = [
        (DoseEntry, ("taken_at", "amount", "unit", "product_id", "leaf_equivalent_g", "created")),
        (QuestionnaireResponse, ("instrument_id", "taken_at", "answers")),
    ]
    for model, names in cases:
        sql = (
            f"SELECT {rows.select(model, names, 't')} FROM {rows.table(model)} t"  # noqa: S608
            " WHERE t.patient_id = %s ORDER BY t.id"
        )
        # On PostgreSQL times are read as text, and parsed here rather than by the driver.
        assert ("::text" in sql) == (connection.vendor == "postgresql")
        with connection.cursor() as cursor:
            cursor.execute(sql, [tri.patient.pk])
            read = [rows.reader(model, names)(row) for row in cursor.fetchall()]
        expected = list(
            model.objects.filter(patient=tri.patient).order_by("id").values_list(*names)
        )
        assert read == expected and read, model.__name__
        for got, want in zip(read, expected, strict=True):
            assert [type(v) for v in got] == [type(v) for v in want]
            for g, w in zip(got, want, strict=True):
                if isinstance(w, datetime):  # the same instant in the same zone
                    assert g.tzinfo == w.tzinfo and g.utcoffset() == w.utcoffset()
