"""Statements for the webhook path, composed once from the models' metadata instead of compiled by the ORM.

Every inbound event runs the same few statements (store the receipt, lock it, find the chat, store the message,
move the conversation, store the live event). Compiling a queryset costs 0.3-0.7 ms of CPU each time, several
times what PostgreSQL takes to run it; composed once here they cost about 0.05 ms (benchmark 1,
docs/benchmarks.md). Everything else keeps the ORM. These helpers stay honest to it: values are prepared by the
model's own fields (`get_db_prep_save`) and read back through the same converters the ORM applies (SQLite's
datetimes and booleans, JSON), so a row read here is the instance a queryset would have given; PostgreSQL and
SQLite (3.35+) both speak every statement (`RETURNING`, `ON CONFLICT`), and `FOR UPDATE SKIP LOCKED` is only
added where the database has it.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from django.db import connections, router
from django.db.models import Model


def connection_for(model: type[Model]):
    return connections[router.db_for_write(model)]


def table(model: type[Model], connection) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def columns(model: type[Model], names: Iterable[str], connection, *, prefix: str = "") -> str:
    """Quoted column names of the model's fields (`"id"`, `contact_id`, ...), optionally table-qualified."""
    quote = connection.ops.quote_name
    return ", ".join(f"{prefix}{quote(model._meta.get_field(name).column)}" for name in names)


def column(model: type[Model], name: str, connection) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def insert_returning(
    instances: Sequence[Model], *, returning: Sequence[str] = ("id",), on_conflict: str | None = None
) -> list[tuple]:
    """INSERT the instances (one model) in one statement; the `returning` fields of the rows it stored.

    `on_conflict`: None (a conflict raises, as `create()`), "" (`ON CONFLICT DO NOTHING`: any unique constraint
    decides) or a comma-separated list of field names (`ON CONFLICT (those) DO NOTHING`). Rows skipped by a
    conflict return nothing: what comes back is what this statement stored, which is what `bulk_create` can't
    say. Values are prepared by the fields (defaults, `auto_now_add`, JSON) exactly as `save()` prepares them.
    """
    if not instances:
        return []
    model = type(instances[0])
    connection = connection_for(model)
    sql, fields = _insert_sql(connection, model, len(instances), tuple(returning), on_conflict)
    params = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for instance in instances for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [tuple(read_values(model, returning, row, connection)) for row in rows]


def statement(build):
    """Decorator for `build(connection, *args)`, a function composing a statement from the models' metadata: it
    runs once per database (and arguments); the statement is kept for the process."""

    @functools.lru_cache(maxsize=32)
    def by_alias(alias: str, *args):
        return build(connections[alias], *args)

    @functools.wraps(build)
    def composed(connection, *args):
        return by_alias(connection.alias, *args)

    return composed


@statement
def _insert_sql(connection, model: type[Model], count: int, returning: tuple[str, ...], on_conflict: str | None) -> tuple[str, list]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {table(model, connection)} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "
    sql += f"VALUES {', '.join([placeholders] * count)}"
    if on_conflict is not None:
        target = f" ({columns(model, on_conflict.split(','), connection)})" if on_conflict else ""
        sql += f" ON CONFLICT{target} DO NOTHING"
    sql += f" RETURNING {columns(model, returning, connection)}"
    return sql, fields


def fetch_one(model: type[Model], sql: str, params: Sequence) -> tuple | None:
    with connection_for(model).cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def read_values(model: type[Model], names: Sequence[str], values: Sequence, connection) -> list:
    """Raw column values as the ORM would hand them over (SQLite's datetime strings become aware datetimes...)."""
    converted = list(values)
    for position, converters, expression in _converters(model, tuple(names), connection.alias):
        value = converted[position]
        for converter in converters:
            value = converter(value, expression, connection)
        converted[position] = value
    return converted


def instance(model: type[Model], names: Sequence[str], values: Sequence, connection) -> Model:
    """A model instance from a row of the given fields, as `.only(*names)` would have built it: the other
    fields are deferred (read from the database if ever used)."""
    by_attname = {model._meta.get_field(name).attname: value for name, value in zip(names, read_values(model, names, values, connection))}
    # from_db takes the values in the order of the model's fields, whatever the order of the names.
    attnames = [f.attname for f in model._meta.concrete_fields if f.attname in by_attname]
    return model.from_db(connection.alias, attnames, [by_attname[attname] for attname in attnames])


@functools.cache
def _converters(model: type[Model], names: tuple[str, ...], alias: str) -> list[tuple[int, list, object]]:
    connection = connections[alias]
    found = []
    for position, name in enumerate(names):
        expression = model._meta.get_field(name).get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if converters:
            found.append((position, converters, expression))
    return found


def skip_locked(connection) -> str:
    """` FOR UPDATE SKIP LOCKED` where the database can lock rows (PostgreSQL); SQLite locks the whole
    database for a write transaction and has no such clause (Django leaves it out the same way)."""
    return " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""


def greatest(connection) -> str:
    """The SQL function for the larger of its arguments: GREATEST, MAX on SQLite (as django.db.models.functions.Greatest)."""
    return "MAX" if connection.vendor == "sqlite" else "GREATEST"
