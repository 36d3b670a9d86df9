"""What differs between SQLite and PostgreSQL, as small tokens, and nothing else.

Queries and migrations are written once (bot/storage/base.py, bot/storage/schema.py) in the
SQL both databases accept, with `?` placeholders. A `Dialect` fills in the few pieces that
cannot be shared: column types in DDL, how to join integers into one string, how a trigger
is declared, and the placeholder style of the driver. Also the errors a backend raises when
a call fails at run time (`StorageError`), so that callers need not know the driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

TriggerEvent = str  # "insert", "update", "delete" or "truncate"


class Result(NamedTuple):
    """One statement's outcome, fetched while the connection was held."""

    rows: list[tuple[Any, ...]]
    columns: list[str]
    rowcount: int

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def one(self) -> tuple[Any, ...]:
        assert self.rows, "the query returned no row"
        return self.rows[0]


class StorageError(Exception):
    """A database call failed while Draftbot was running (a database that cannot be opened at
    start-up is `bot.storage.StorageUnavailable`). `applied` says what became of a write:
    False, certainly nothing (writing it again is safe); None, it may or may not have been
    committed, since the connection was lost after it was sent: keep it, and do not write it
    again without checking."""

    def __init__(self, message: str, *, applied: bool | None) -> None:
        super().__init__(message)
        self.applied = applied


class ConnectionLost(StorageError):
    """The connection broke during the call (a server restart, a fail-over, the network), and
    the call could not safely be run again on a new one, or no new one could be opened."""


class StorageTimeout(StorageError):
    """The database did not answer in time: a statement or a lock wait ran past its limit
    (the server cancelled it), or the server stopped answering (the connection was dropped)."""


class Run(Protocol):
    """Executes one statement written with `?` placeholders."""

    def __call__(self, query: str, params: Sequence[Any] = ()) -> Result: ...


@dataclass(frozen=True)
class Dialect:
    name: str
    # DDL tokens: {id} (auto-numbered primary key), {int}, {real}, {text}.
    types: Mapping[str, str]
    # An aggregate joining an integer column's values with commas ("{}" is the column).
    int_list: str
    # The bookkeeping table of applied migrations (created before any migration runs).
    migrations_table: str
    # (name, event, statements, columns) -> DDL statements. Statements read the affected
    # rows from `{new}` and `{old}`, each a table-like source with `columns`.
    trigger: Callable[[str, TriggerEvent, Sequence[str], Sequence[str]], list[str]]
    # The driver's form of a query written with `?` placeholders.
    placeholders: Callable[[str], str]

    def ddl(self, template: str) -> str:
        return template.format_map(self.types)


def _sqlite_trigger(
    name: str, event: TriggerEvent, statements: Sequence[str], columns: Sequence[str]
) -> list[str]:
    """A row-level trigger; `{new}`/`{old}` become a one-row table of NEW or OLD."""
    if event == "truncate":  # SQLite has no TRUNCATE: `delete from` fires the delete trigger
        return []

    def row(which: str) -> str:
        return f"(select {', '.join(f'{which}.{c} as {c}' for c in columns)}) as {which}_row"

    body = ";\n".join(_sources(statements, new=row("new"), old=row("old")))
    return [f"create trigger {name} after {event} on usage begin\n{body};\nend"]


def _postgres_trigger(
    name: str, event: TriggerEvent, statements: Sequence[str], columns: Sequence[str]
) -> list[str]:
    """A statement-level trigger; `{new}`/`{old}` become its transition tables, so a bulk
    INSERT or COPY runs each statement once, not once per row."""
    transitions = {
        "insert": "referencing new table as new_rows",
        "update": "referencing old table as old_rows new table as new_rows",
        "delete": "referencing old table as old_rows",
        "truncate": "",
    }[event]
    body = "".join(f"    {s};\n" for s in _sources(statements, new="new_rows", old="old_rows"))
    return [
        f"create function {name}() returns trigger language plpgsql as $$\n"
        f"begin\n{body}    return null;\nend\n$$",
        f"create trigger {name} after {event} on usage {transitions} "
        f"for each statement execute function {name}()",
    ]


def _sources(statements: Iterable[str], *, new: str, old: str) -> list[str]:
    return [s.replace("{new}", new).replace("{old}", old) for s in statements]


@lru_cache(maxsize=512)
def _pyformat(query: str) -> str:
    """`?` → `%s` for psycopg (and a literal `%` doubled). Draftbot's SQL has no `?` or `%`
    inside string literals, which this would also change."""
    return query.replace("%", "%%").replace("?", "%s")


SQLITE = Dialect(
    name="sqlite",
    # The declared types sqlite-utils gave the tables before migrations existed.
    types={"id": "INTEGER PRIMARY KEY", "int": "INTEGER", "real": "REAL", "text": "TEXT"},
    int_list="group_concat({})",  # string_agg arrived only in SQLite 3.44
    migrations_table=(
        "create table if not exists schema_migrations ("
        " version INTEGER PRIMARY KEY,"
        " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    ),
    trigger=_sqlite_trigger,
    placeholders=lambda query: query,
)

POSTGRES = Dialect(
    name="postgresql",
    # Text in the "C" collation compares byte-wise, like SQLite, whatever the database's
    # locale: reports compare `created_at` as text and sort keys as strings.
    types={
        "id": "bigint generated by default as identity primary key",
        "int": "bigint",
        "real": "double precision",
        "text": 'text collate "C"',
    },
    int_list="string_agg({}::text, ',')",
    migrations_table=(
        "create table if not exists schema_migrations ("
        " version integer primary key,"
        " applied_at timestamptz not null default now())"
    ),
    trigger=_postgres_trigger,
    placeholders=_pyformat,
)
