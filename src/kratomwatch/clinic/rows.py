"""Written-out SQL for the few statements on the path of every API dose, converted as the ORM
converts.

Building and compiling a query costs the ORM several times what running it costs (about
0.4 ms against 0.05 ms for the dose API's look-up of patient and product). The dose API's
statements are therefore written out; this module supplies what they need from the models
themselves, so that they store and read exactly what the ORM would: the column lists, model
instances made from rows (with the database backend's and the fields' converters), and
INSERTs of unsaved instances (with the fields' ``pre_save``, e.g. ``auto_now``).
``tests/web/test_rows.py`` compares each with the ORM on both databases.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]

# Per connection (each thread has its own) and model: the converters of each column.
_converters: weakref.WeakKeyDictionary[Any, dict[type[Model], list[tuple[list[Converter], Any]]]]
_converters = weakref.WeakKeyDictionary()


def quote(name: str) -> str:
    return str(connection.ops.quote_name(name))


def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


def columns(model: type[Model], alias: str) -> str:
    """Every column of ``model`` as ``alias."column"``, in the order :func:`instance` reads."""
    return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    """How many values of a row :func:`columns` selects."""
    return len(model._meta.concrete_fields)


def _column_converters(model: type[Model]) -> list[tuple[list[Converter], Any]]:
    by_model = _converters.setdefault(connections[DEFAULT_DB_ALIAS], {})
    found = by_model.get(model)
    if found is None:
        found = []
        for field in model._meta.concrete_fields:
            column = field.get_col(model._meta.db_table)
            convert = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
            found.append((convert, column))
        by_model[model] = found
    return found


def instance(model: type[M], values: Sequence[Any]) -> M:
    """The model instance the ORM would make of these values of :func:`columns`."""
    converted = []
    for value, (convert, column) in zip(values, _column_converters(model), strict=True):
        for converter in convert:
            value = converter(value, column, connection)
        converted.append(value)
    names = [f.attname for f in model._meta.concrete_fields]
    return model.from_db(connection.alias, names, converted)


def insert(obj: Model) -> tuple[str, list[Any]]:
    """An INSERT of the unsaved ``obj`` (the database assigns its id), as ``save()`` would
    write it: each field's ``pre_save`` (``auto_now`` and ``auto_now_add`` set their time on
    ``obj``) and database preparation. :func:`run` answers it with the new id, which
    :func:`inserted` sets on ``obj``."""
    model = type(obj)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    names = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table(model)} ({names}) VALUES ({marks})"  # noqa: S608
    if connection.features.can_return_columns_from_insert:  # SQLite before 3.35 cannot
        sql += " RETURNING id"
    return sql, values


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
    chosen = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in chosen)  # type: ignore[union-attr]
    sql = f"UPDATE {table(model)} SET {assignments} WHERE id = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in chosen]  # type: ignore[union-attr]
        + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def run(statements: Sequence[tuple[str, Sequence[Any]]]) -> list[tuple[Any, ...] | None]:
    """Run the statements in order, in the current transaction; the first row each returns
    (``None`` for one that returns none). On PostgreSQL with client-side binding (Django's
    default), in one round trip."""
    results: list[tuple[Any, ...] | None] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not _server_side_binding():
            cursor.execute(
                "; ".join(sql for sql, _ in statements), [p for _, ps in statements for p in ps]
            )
            while True:
                results.append(cursor.fetchone() if cursor.description else None)
                if not cursor.nextset():
                    break
        else:
            for sql, params in statements:
                cursor.execute(sql, params)
                row = cursor.fetchone() if cursor.description else None
                if row is None and sql.startswith("INSERT "):
                    row = (cursor.lastrowid,)  # an INSERT without RETURNING
                results.append(row)
    return results


def _server_side_binding() -> bool:
    return bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))
