"""Migration 12's tables, `draft_events` and `draft_outcomes` (bot/storage/schema.py lists
the migrations; bot/storage/events.py holds their queries)."""

from __future__ import annotations

from bot.storage.dialects import Dialect


def draft_event_tables(dialect: Dialect) -> list[str]:
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
