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


def add_to_daily(source: str, sign: str = "") -> str:
    """Add (sign "") or subtract (sign "-") the sums of the usage rows in `source`."""
    columns = ", ".join([*DAILY_KEY, *DAILY_SUM_COLUMNS])
    keys = ", ".join(DAILY_KEY.values())
    sums = ", ".join(f"{sign}sum({expression})" for expression in DAILY_FIGURES.values())
    add = ", ".join(f"{c} = usage_daily.{c} + excluded.{c}" for c in DAILY_SUM_COLUMNS)
    # "where true": SQLite's documented way to parse INSERT … SELECT … ON CONFLICT.
    return (
        f"insert into usage_daily ({columns})\n"
        f"select {keys},\n    {sums}\n"
        f"from {source} where true group by 1, 2, 3, 4\n"
        f"on conflict ({', '.join(DAILY_KEY)}) do update set {add}"
    )


def drop_empty_days(source: str) -> str:
    """Remove the sums left with no request by the rows of `source` going away."""
    return (
        f"delete from usage_daily where requests <= 0 and ({', '.join(DAILY_KEY)}) in "
        f"(select {', '.join(DAILY_KEY.values())} from {source})"
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
    subtract_old = [add_to_daily("{old}", "-"), drop_empty_days("{old}")]
    events = {
        "insert": [add_to_daily("{new}")],
        "update": [*subtract_old, add_to_daily("{new}")],
        "delete": subtract_old,
        "truncate": ["delete from usage_daily"],
    }
    triggers = [
        statement
        for event, statements in events.items()
        for statement in dialect.trigger(f"usage_daily_on_{event}", event, statements, DAILY_INPUTS)
    ]
    return [*triggers, "delete from usage_daily", add_to_daily("usage")]


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


def _draft_events(dialect: Dialect) -> list[str]:
    """One row per thing that happened to a draft (bot/draft_events.py), kept like `usage`
    (not purged with the drafts): ids, names and times only. `detail` is the refinement's
    name, or `up`/`down` for feedback; `reason` is the one-line reason a person may give
    with a 👎 (their words about the draft, never the draft's; never logged)."""
    return [
        dialect.ddl(
            """create table if not exists draft_events (
        id {id},
        at {text} not null,
        draft_id {text} not null,
        user_id {text} not null,
        kind {text},
        channel_id {text},
        model {text},
        event {text} not null,
        detail {text},
        reason {text},
        version {int}
    )"""
        ),
        "create index if not exists idx_draft_events_draft on draft_events (draft_id, id)",
        "create index if not exists idx_draft_events_user on draft_events (user_id, event, at)",
        # One row per draft: its events summed as they are written (bot/storage/events.py),
        # so a month's outcome figures read one row a draft, not three events and a join.
        dialect.ddl(
            """create table if not exists draft_outcomes (
        draft_id {text} primary key,
        created_at {text},
        user_id {text},
        kind {text},
        model {text},
        channel_id {text},
        posted_at {text},
        post_ms {int},
        discarded {int} not null default 0,
        expired {int} not null default 0,
        refinements {int} not null default 0,
        edited_at {text},
        feedback {text}
    )"""
        ),
        "create index if not exists idx_draft_outcomes_created on draft_outcomes (created_at)",
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
        12,
        "draft_events: each draft's life (created, refined, posted, feedback…), no draft text; "
        "draft_outcomes: the same summed per draft",
        _draft_events,
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
