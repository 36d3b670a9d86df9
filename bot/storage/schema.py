"""The schema: one ordered list of migrations, the same for SQLite and PostgreSQL.

Each migration is applied once, in order, in one transaction with its `schema_migrations`
row; the backends hold their own lock around the whole run (SQLite's write lock, a
PostgreSQL advisory lock), so processes starting together take turns. Never edit a
released migration (nor the constants it is built from): add a new one.

Databases from before versioning upgrade in place. PostgreSQL ones already record version 1.
SQLite files made by sqlite-utils have today's tables but no `schema_migrations`: migration
1 creates only what is missing (`if not exists`), giving the same tables, column types and
indexes a new file gets, and migration 2 then derives `usage_daily` from `usage`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.storage.dialects import Dialect, Run
from bot.storage.events_schema import draft_event_tables

log = logging.getLogger(__name__)

# `usage_daily`: per-day sums of `usage`, one row per (day, user, kind, model), so that a
# month's report reads thousands of rows instead of hundreds of thousands. Triggers on
# `usage` keep it exact whoever writes (Draftbot, `sqlite-utils insert`, psql, a script).
DAILY_KEY = {
    "day": "substr(created_at, 1, 10)",  # created_at is UTC ISO-8601: the UTC day
    "user_id": "user_id",
    "kind": "coalesce(kind, '')",
    "model": "coalesce(model, '')",
}
# What one usage row adds to its day's sums.
DAILY_FIGURES = {
    "requests": "1",
    "failed": "case when status <> 'ok' then 1 else 0 end",
    "truncated": "case when stop_reason in ('max_tokens', 'model_context_window_exceeded') "
    "then 1 else 0 end",
    "input_tokens": "coalesce(input_tokens, 0)",
    "output_tokens": "coalesce(output_tokens, 0)",
    "cache_creation_input_tokens": "coalesce(cache_creation_input_tokens, 0)",
    "cache_read_input_tokens": "coalesce(cache_read_input_tokens, 0)",
    "cache_creation_5m_input_tokens": "coalesce(cache_creation_5m_input_tokens, 0)",
    "cache_creation_1h_input_tokens": "coalesce(cache_creation_1h_input_tokens, 0)",
    "cost_nano_usd": "coalesce(cost_nano_usd, 0)",
    "unpriced_requests": "case when cost_nano_usd is null and input_tokens + output_tokens "
    "+ cache_creation_input_tokens + cache_read_input_tokens > 0 then 1 else 0 end",
}
DAILY_SUM_COLUMNS = tuple(DAILY_FIGURES)
# The `usage` columns those expressions read.
DAILY_INPUTS = (
    "created_at", "user_id", "kind", "model", "status", "stop_reason", "input_tokens",
    "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
    "cache_creation_5m_input_tokens", "cache_creation_1h_input_tokens", "cost_nano_usd",
)  # fmt: skip


# `usage_monthly`: the same sums per calendar month (UTC) and channel, so that a report of
# whole months reads one row per (month, user, kind, model, channel) instead of one per day.
MONTHLY_KEY = {
    "month": "substr(created_at, 1, 7)",
    "user_id": "user_id",
    "kind": "coalesce(kind, '')",
    "model": "coalesce(model, '')",
    "channel_id": "coalesce(channel_id, '')",
}
# Its figures: the daily ones, and the refusals among the requests (for Datasette's queries,
# which read whole months; reports count refusals by reason from `usage`).
MONTHLY_FIGURES = {**DAILY_FIGURES, "refused": "case when status = 'refused' then 1 else 0 end"}
SUMS_TABLES = {
    "usage_daily": (DAILY_KEY, DAILY_FIGURES),
    "usage_monthly": (MONTHLY_KEY, MONTHLY_FIGURES),
}


def add_to_daily(source: str, sign: str = "", table: str = "usage_daily") -> str:
    """Add (sign "") or subtract (sign "-") the sums of the usage rows in `source` to those
    of `table` (usage_daily, or usage_monthly with its own key)."""
    key, figures = SUMS_TABLES[table]
    columns = ", ".join([*key, *figures])
    keys = ", ".join(key.values())
    sums = ", ".join(f"{sign}sum({expression})" for expression in figures.values())
    add = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in figures)
    # "where true": SQLite's documented way to parse INSERT … SELECT … ON CONFLICT.
    return (
        f"insert into {table} ({columns})\n"
        f"select {keys},\n    {sums}\n"
        f"from {source} where true group by {', '.join(str(n + 1) for n in range(len(key)))}\n"
        f"on conflict ({', '.join(key)}) do update set {add}"
    )


def drop_empty_days(source: str, table: str = "usage_daily") -> str:
    """Remove the sums left with no request by the rows of `source` going away."""
    key, _ = SUMS_TABLES[table]
    return (
        f"delete from {table} where requests <= 0 and ({', '.join(key)}) in "
        f"(select {', '.join(key.values())} from {source})"
    )


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: Callable[[Dialect], list[str]]  # each a single statement


_TABLES = (
    """create table if not exists usage (
        id {id},
        created_at {text} not null,
        team_id {text},
        user_id {text} not null,
        channel_id {text},
        source {text},
        kind {text},
        model {text},
        input_tokens {int},
        output_tokens {int},
        cache_creation_input_tokens {int},
        cache_read_input_tokens {int},
        cache_creation_5m_input_tokens {int},
        cache_creation_1h_input_tokens {int},
        cost_usd {real},
        cost_nano_usd {int},
        stop_reason {text},
        status {text},
        error {text},
        latency_ms {int},
        ttft_ms {int},
        request_id {text},
        attempts {int}
    )""",
    # Covers the report's timing query (percentiles), which reads every row of a period.
    """create index if not exists idx_usage_period_timings
        on usage (created_at, status, user_id, kind, model, latency_ms, ttft_ms)""",
    "create index if not exists idx_usage_user_id_created_at on usage (user_id, created_at)",
    f"""create table if not exists usage_daily (
        day {{text}},
        user_id {{text}},
        kind {{text}},
        model {{text}},
        {", ".join(f"{c} {{int}}" for c in DAILY_SUM_COLUMNS)},
        primary key (day, user_id, kind, model)
    )""",
    # People's names, cached from Slack's users.info.
    """create table if not exists people (
        user_id {text} primary key,
        display_name {text},
        real_name {text},
        updated_at {text}
    )""",
    """create table if not exists budgets (
        user_id {text} primary key,
        monthly_nano_usd {int},
        set_by {text},
        set_at {text}
    )""",
    # Worst-case cost of drafts in flight, so parallel requests cannot overspend.
    """create table if not exists reservations (
        id {id},
        user_id {text},
        nano_usd {int},
        created_at {text}
    )""",
    # Draft previews and their conversation, so buttons can refine them. Holds draft text
    # (unlike `usage`), so rows are purged after DRAFTBOT_DRAFT_RETENTION_DAYS.
    """create table if not exists drafts (
        id {text} primary key,
        user_id {text},
        team_id {text},
        channel_id {text},
        kind {text},
        request {text},
        text {text},
        stop_reason {text},
        status {text},
        response_url {text},
        created_at {text},
        updated_at {text}
    )""",
    "create index if not exists idx_drafts_updated_at on drafts (updated_at)",
    # Slack retries event deliveries: remember which messages were already answered.
    """create table if not exists handled_events (
        key {text} primary key,
        handled_at {text}
    )""",
    """create table if not exists budget_alerts (
        user_id {text},
        month {text},
        audience {text},
        sent_at {text},
        primary key (user_id, month, audience)
    )""",
)


def _tables(dialect: Dialect) -> list[str]:
    return [dialect.ddl(statement) for statement in _TABLES]


def _daily_triggers(dialect: Dialect) -> list[str]:
    """`usage_daily` follows every insert, update and delete on `usage`, then is rebuilt
    from `usage` (it was kept by Draftbot's own writes only, so other writers' rows were
    missing). The triggers come first: in PostgreSQL, creating them locks `usage` against
    writes until this migration commits, so no row is counted twice or missed."""
    return _sums_kept_by_triggers(dialect, "usage_daily")


def _sums_kept_by_triggers(dialect: Dialect, table: str) -> list[str]:
    inputs = DAILY_INPUTS if table == "usage_daily" else (*DAILY_INPUTS, "channel_id")
    subtract_old = [add_to_daily("{old}", "-", table), drop_empty_days("{old}", table)]
    events = {
        "insert": [add_to_daily("{new}", table=table)],
        "update": [*subtract_old, add_to_daily("{new}", table=table)],
        "delete": subtract_old,
        "truncate": [f"delete from {table}"],
    }
    triggers = [
        statement
        for event, statements in events.items()
        for statement in dialect.trigger(f"{table}_on_{event}", event, statements, inputs)
    ]
    return [*triggers, f"delete from {table}", add_to_daily("usage", table=table)]


def _monthly_sums(dialect: Dialect) -> list[str]:
    """`usage_monthly`, kept by triggers like `usage_daily` and built from `usage`."""
    table = f"""create table if not exists usage_monthly (
        month {{text}},
        user_id {{text}},
        kind {{text}},
        model {{text}},
        channel_id {{text}},
        {", ".join(f"{c} {{int}}" for c in MONTHLY_FIGURES)},
        primary key (month, user_id, kind, model, channel_id)
    )"""
    return [dialect.ddl(table), *_sums_kept_by_triggers(dialect, "usage_monthly")]


def _usage_replays(dialect: Dialect) -> list[str]:
    """Usage rows kept in the journal while the database was failing carry a key; replaying
    one records its key in the same transaction, so a row is never written twice."""
    return [
        dialect.ddl(
            """create table if not exists usage_replays (
        row_key {text} primary key,
        usage_id {int} not null,
        replayed_at {text} not null
    )"""
        )
    ]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "tables: usage, usage_daily, people, budgets, reservations, drafts, handled_events, "
        "budget_alerts",
        _tables,
    ),
    Migration(
        2,
        "usage_daily kept by triggers on usage (insert, update, delete), rebuilt from usage",
        _daily_triggers,
    ),
    Migration(3, "usage_replays: keys of journalled usage rows already written", _usage_replays),
    Migration(
        4,
        "drafts.source_ref: the conversation a summary was read from (not its text)",
        lambda dialect: [dialect.ddl("alter table drafts add column source_ref {text}")],
    ),
    Migration(
        5,
        "idx_usage_ok_by_user: the default report's timings, grouped by person without a sort",
        lambda dialect: [
            """create index if not exists idx_usage_ok_by_user
                on usage (status, user_id, created_at, latency_ms, ttft_ms)"""
        ],
    ),
    Migration(
        6,
        "admin_changes: who changed what for whom, when, old value and new (no text)",
        lambda dialect: [
            dialect.ddl(
                """create table if not exists admin_changes (
        id {id},
        changed_at {text} not null,
        actor {text} not null,
        setting {text} not null,
        subject {text} not null,
        old_value {text},
        new_value {text}
    )"""
            )
        ],
    ),
    Migration(
        7,
        "drafts.file_ids: the Slack files a draft was read from (their ids, never their bytes)",
        lambda dialect: [dialect.ddl("alter table drafts add column file_ids {text}")],
    ),
    Migration(
        8,
        "usage_monthly: the sums of usage per calendar month and channel, kept by triggers",
        _monthly_sums,
    ),
    Migration(
        9,
        "draft_versions: each version of a draft (its text: purged with the draft)",
        lambda dialect: [
            # Holds draft text, like `drafts`: rows go when their draft is purged.
            dialect.ddl(
                """create table if not exists draft_versions (
        draft_id {text} not null,
        version {int} not null,
        text {text},
        stop_reason {text},
        made_by {text} not null,
        restored_from {int},
        created_at {text} not null,
        primary key (draft_id, version)
    )"""
            )
        ],
    ),
    Migration(
        10,
        "channel_settings: a channel's preset (instructions, default kind, model, tone, on/off)",
        lambda dialect: [
            dialect.ddl(
                """create table if not exists channel_settings (
        channel_id {text} primary key,
        channel_name {text},
        instructions {text},
        default_kind {text},
        model {text},
        tone {text},
        enabled {int} not null,
        updated_by {text} not null,
        updated_at {text} not null
    )"""
            )
        ],
    ),
    Migration(
        11,
        "access_overrides: access rules admins changed at run time, replacing the settings'",
        lambda dialect: [
            dialect.ddl(
                """create table if not exists access_overrides (
        rule {text} primary key,
        value {text} not null,
        set_by {text} not null,
        set_at {text} not null
    )"""
            )
        ],
    ),
    Migration(
        12,
        "draft_events: each draft's life (created, refined, posted, feedback…), no draft text; "
        "draft_outcomes: the same summed per draft",
        draft_event_tables,
    ),
)


def is_current(done: set[int]) -> bool:
    """True when every migration is among the versions `done`: nothing to lock or apply."""
    return all(migration.version in done for migration in MIGRATIONS)


def migrate(run: Run, dialect: Dialect) -> list[int]:
    """Apply the migrations the database lacks, in order; return the versions applied.

    The caller holds the transaction and the lock that keep other processes out."""
    run(dialect.migrations_table)
    done = {version for (version,) in run("select version from schema_migrations").rows}
    applied: list[int] = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        for statement in migration.statements(dialect):
            run(statement)
        run("insert into schema_migrations (version) values (?)", [migration.version])
        applied.append(migration.version)
    return applied


def log_applied(applied: list[int]) -> None:
    """Once committed: say which versions this process applied."""
    for version in applied:
        log.info("database schema migrated to version %d", version)
