"""Written-out SQL for the few statements on the path of every API dose and every screening,
converted as the ORM converts.

Building and compiling a query costs the ORM several times what running it costs (about
0.4 ms against 0.05 ms for the dose API's look-up of patient and product). Those
statements are therefore written out; this module supplies what they need from the models
themselves, so that they store and read exactly what the ORM would: the column lists, model
instances made from rows (with the database backend's and the fields' converters), and
INSERTs of unsaved instances (with the fields' ``pre_save``, e.g. ``auto_now``).
``tests/web/test_rows.py`` compares each with the ORM on both databases.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import DateTimeField, Field, Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


@dataclass
class _Shape:
    """What the statements of one model need, worked out once per connection (each thread
    has its own) and model: quoting and converters belong to the connection's backend."""

    db: Any
    table: str
    fields: list[Field[Any, Any]]
    attnames: list[str]
    quoted: list[str]
    # (position, converters, column) of the columns that have converters
    converters: list[tuple[int, list[Converter], Any]]
    # A whole row of :func:`columns` converted, as :func:`instance` needs it
    read_row: Callable[[Sequence[Any]], tuple[Any, ...]]
    insert_fields: list[Field[Any, Any]]
    insert_sql: str
    position: dict[str, int]  # of each field, by name and by attname
    # Positions of the columns :func:`select` reads as text, and how (see _text_time)
    as_text: dict[int, Converter] = field(default_factory=dict)
    aliased: dict[str, str] = field(default_factory=dict)
    readers: dict[tuple[str, ...], Callable[[Sequence[Any]], tuple[Any, ...]]] = field(
        default_factory=dict
    )


_shapes: weakref.WeakKeyDictionary[Any, dict[type[Model], _Shape]] = weakref.WeakKeyDictionary()


def _shape(model: type[Model]) -> _Shape:
    db = connections[DEFAULT_DB_ALIAS]
    by_model = _shapes.get(db)
    if by_model is None:
        by_model = _shapes[db] = {}
    found = by_model.get(model)
    if found is None:
        found = by_model[model] = _work_out(db, model)
    return found


def _work_out(db: Any, model: type[Model]) -> _Shape:
    meta = model._meta
    quote_name = db.ops.quote_name
    fields = list(meta.concrete_fields)
    converters = []
    for position, f in enumerate(fields):
        column = f.get_col(meta.db_table)
        convert = db.ops.get_db_converters(column) + f.get_db_converters(db)
        if convert:
            converters.append((position, convert, column))
    insert_fields = [f for f in fields if not f.primary_key]
    names = ", ".join(quote_name(f.column) for f in insert_fields)
    marks = ", ".join(["%s"] * len(insert_fields))
    insert_sql = f"INSERT INTO {quote_name(meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608
    if db.features.can_return_columns_from_insert:  # SQLite before 3.35 cannot
        insert_sql += " RETURNING id"
    as_text: dict[int, Converter] = {}
    if _iso_times(db):
        as_text = {i: _text_time for i, f in enumerate(fields) if isinstance(f, DateTimeField)}
    return _Shape(
        db=db,
        as_text=as_text,
        table=quote_name(meta.db_table),
        fields=fields,
        attnames=[f.attname for f in fields],
        quoted=[quote_name(f.column) for f in fields],
        converters=converters,
        read_row=_converting(converters, db) if converters else tuple,
        insert_fields=insert_fields,
        insert_sql=insert_sql,
        position={
            **{f.name: i for i, f in enumerate(fields)},
            **{f.attname: i for i, f in enumerate(fields)},
        },
    )


def _iso_times(db: Any) -> bool:
    """Whether this connection is to PostgreSQL, sending times as ISO 8601 text."""
    if db.vendor != "postgresql":
        return False
    db.ensure_connection()
    return bool((db.connection.pgconn.parameter_status(b"DateStyle") or b"").startswith(b"ISO"))


def _text_time(value: Any, column: Any, db: Any) -> Any:
    """A ``timestamptz`` read as its ISO text, as the ORM reads it: aware, in the
    connection's time zone (naive without one). The text is parsed by ``fromisoformat``,
    about 30 times faster than the driver's loader that Django installs, which parses
    every time in Python: screening reads several hundred times per patient."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    zone = db.timezone
    if zone is None:
        return moment.astimezone(ZoneInfo(db.timezone_name)).replace(tzinfo=None)
    return moment if moment.tzinfo is zone else moment.astimezone(zone)


def table(model: type[Model]) -> str:
    return _shape(model).table


def columns(model: type[Model], alias: str = "") -> str:
    """Every column of ``model`` as ``alias."column"`` (or bare, without an alias), in the
    order :func:`instance` reads."""
    shape = _shape(model)
    found = shape.aliased.get(alias)
    if found is None:
        prefix = f"{alias}." if alias else ""
        found = shape.aliased[alias] = ", ".join(f"{prefix}{q}" for q in shape.quoted)
    return found


def select(model: type[Model], names: Sequence[str], alias: str) -> str:
    """The columns of these fields of ``model`` as ``alias."column"``, for :func:`reader`
    (times as text on PostgreSQL: see :func:`_text_time`)."""
    shape = _shape(model)
    chosen = []
    for name in names:
        position = shape.position[name]
        column = f"{alias}.{shape.quoted[position]}"
        chosen.append(f"{column}::text" if position in shape.as_text else column)
    return ", ".join(chosen)


def reader(model: type[Model], names: Sequence[str]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """What turns a row of :func:`select`'s columns into the values ``values_list`` of these
    fields would give (the backend's and the fields' converters applied)."""
    shape = _shape(model)
    key = tuple(names)
    found = shape.readers.get(key)
    if found is None:
        by_position = {
            position: (convert, column) for position, convert, column in shape.converters
        }
        for position, convert in shape.as_text.items():
            by_position[position] = ([convert], by_position.get(position, ([], None))[1])
        steps = [
            (i, *by_position[shape.position[name]])
            for i, name in enumerate(names)
            if shape.position[name] in by_position
        ]
        found = shape.readers[key] = _converting(steps, shape.db) if steps else tuple
    return found


def _converting(
    steps: list[tuple[int, list[Converter], Any]], db: Any
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    def read(row: Sequence[Any]) -> tuple[Any, ...]:
        values = list(row)
        for i, convert, column in steps:
            value = values[i]
            for converter in convert:
                value = converter(value, column, db)
            values[i] = value
        return tuple(values)

    return read


def width(model: type[Model]) -> int:
    """How many values of a row :func:`columns` selects."""
    return len(model._meta.concrete_fields)


def instance(model: type[M], values: Sequence[Any]) -> M:
    """The model instance the ORM would make of these values of :func:`columns`."""
    shape = _shape(model)
    if len(values) != len(shape.fields):
        raise ValueError(f"{len(values)} values for the {len(shape.fields)} columns of {model}")
    return model.from_db(shape.db.alias, shape.attnames, list(shape.read_row(values)))


def insert(obj: Model) -> tuple[str, list[Any]]:
    """An INSERT of the unsaved ``obj`` (the database assigns its id), as ``save()`` would
    write it: each field's ``pre_save`` (``auto_now`` and ``auto_now_add`` set their time on
    ``obj``) and database preparation. :func:`run` answers it with the new id, which
    :func:`inserted` sets on ``obj``."""
    shape = _shape(type(obj))
    db = shape.db
    return shape.insert_sql, [
        f.get_db_prep_save(f.pre_save(obj, True), db) for f in shape.insert_fields
    ]


def get(model: type[M], pk: Any) -> M:
    """``model.objects.get(pk=pk)``, written out (``DoesNotExist`` if there is none)."""
    sql = f"SELECT {columns(model, 't')} FROM {table(model)} t WHERE t.id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"no {model.__name__} with id {pk!r}")  # type: ignore[attr-defined]
    return instance(model, row)


def param(model: type[Model], name: str, value: Any) -> Any:
    """``value`` prepared as a parameter compared with field ``name`` of ``model``, as the ORM
    prepares it (SQLite stores times as text, for one)."""
    shape = _shape(model)
    return shape.fields[shape.position[name]].get_db_prep_value(value, shape.db)


def inserted(obj: Model, row: Sequence[Any] | None) -> None:
    """Mark ``obj`` as saved with the id its :func:`insert` returned."""
    if row is None:
        raise RuntimeError(f"the INSERT of a {type(obj).__name__} returned no id")
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias


def update_many(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of these saved instances of one model, as ``bulk_update`` would (the
    values as they are on the instances, no ``pre_save``): one UPDATE per instance, sent as
    one batch, instead of one UPDATE with a CASE per field that the ORM must build."""
    if not objs:
        return
    model = type(objs[0])
    shape = _shape(model)
    db = shape.db
    chosen = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{db.ops.quote_name(f.column)} = %s" for f in chosen)  # type: ignore[union-attr]
    sql = f"UPDATE {shape.table} SET {assignments} WHERE id = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), db) for f in chosen]  # type: ignore[union-attr]
        + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


Statement = tuple[str, Sequence[Any]]


@dataclass(frozen=True)
class Result:
    """What one statement of a batch returned: its rows (all, or the first only) and the
    number of rows it affected or returned."""

    rows: list[tuple[Any, ...]]
    count: int

    @property
    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


def run(statements: Sequence[Statement]) -> list[tuple[Any, ...] | None]:
    """Run the statements in order, in the current transaction; the first row each returns
    (``None`` for one that returns none). On PostgreSQL with client-side binding (Django's
    default), in one round trip."""
    with connection.cursor() as cursor:
        return [result.first for result in _execute(cursor, statements, first=True)]


def fetch(statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """Run the statements in order; every row each returns. On PostgreSQL with client-side
    binding, in one round trip (outside a transaction, each statement still reads what was
    committed when it starts, as separate queries would)."""
    with connection.cursor() as cursor:
        return [result.rows for result in _execute(cursor, statements, first=False)]


def read_then_write(
    first: Sequence[Statement],
    then: Callable[[list[Result]], Sequence[Statement]],
    *,
    on_commit: bool = False,
) -> list[Result]:
    """Run ``first``, then the statements ``then`` makes of their results, in one transaction
    (one with the caller's, if one is open); returns what the latter returned (first rows).

    On PostgreSQL with client-side binding, outside any transaction, that is two round
    trips: BEGIN goes with ``first`` and COMMIT with the rest. Django knows nothing of that
    transaction, so ``then`` must not register ``transaction.on_commit`` callbacks; pass
    ``on_commit=True`` if it may. Otherwise, and elsewhere, the statements run in
    ``transaction.atomic()``. An exception from ``then`` or from the database rolls the
    whole back, either way.
    """
    if (
        on_commit
        or not in_one_round_trip()
        or connection.in_atomic_block
        or not connection.get_autocommit()
    ):
        with transaction.atomic(), connection.cursor() as cursor:
            read = _execute(cursor, first, first=True)
            return _execute(cursor, then(read), first=True)
    with connection.cursor() as cursor:
        try:
            read = _execute(cursor, [("BEGIN", []), *first], first=True)[1:]
            return _execute(cursor, [*then(read), ("COMMIT", [])], first=True)[:-1]
        except BaseException:
            _roll_back_if_open(cursor)
            raise


def _roll_back_if_open(cursor: Any) -> None:
    """After a failure in :func:`read_then_write`'s own transaction: end it, unless the
    connection is gone (a connection that cannot roll back fails Django's check at the end
    of the request and is closed; the failure that got here is the one raised)."""
    from psycopg.pq import TransactionStatus

    raw = connection.connection
    if raw is None or raw.closed or raw.info.transaction_status == TransactionStatus.IDLE:
        return
    with suppress(DatabaseError):
        cursor.execute("ROLLBACK")


def _execute(cursor: Any, statements: Sequence[Statement], *, first: bool) -> list[Result]:
    def take(cursor: Any) -> Result:
        if not cursor.description:
            return Result([], cursor.rowcount)
        if first:
            row = cursor.fetchone()
            return Result([] if row is None else [row], cursor.rowcount)
        return Result(list(cursor.fetchall()), cursor.rowcount)

    results: list[Result] = []
    if in_one_round_trip():
        cursor.execute(
            "; ".join(sql for sql, _ in statements), [p for _, ps in statements for p in ps]
        )
        while True:
            results.append(take(cursor))
            if not cursor.nextset():
                break
    else:
        for sql, params in statements:
            cursor.execute(sql, params)
            found = take(cursor)
            if not found.rows and first and sql.startswith("INSERT "):
                found = Result([(cursor.lastrowid,)], 1)  # an INSERT without RETURNING
            results.append(found)
    return results


def in_one_round_trip() -> bool:
    """Whether statements can be sent together, as one query of several: on PostgreSQL with
    client-side binding (Django's default; server-side binding allows one per query)."""
    options = connection.settings_dict.get("OPTIONS", {})
    return connection.vendor == "postgresql" and not options.get("server_side_binding")
