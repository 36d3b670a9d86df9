"""The queries over `draft_events` (bot/draft_events.py writes them), written once for both
databases, as a mixin of `bot.storage.base.SqlStore`: what happened to each draft, with no
draft text, kept like `usage` (the drafts themselves are purged).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from bot.storage.dialects import Dialect, Result, Run
from bot.storage.records import GroupBy, utc_now_iso
from bot.storage.report_queries import GROUP_COLUMNS

EVENT_COLUMNS = (
    "at", "draft_id", "user_id", "kind", "channel_id", "model", "event", "detail", "reason",
    "version",
)  # fmt: skip
# Events that make a new version of the draft (v1 is `created`), when the caller gives none.
NEW_VERSION_EVENTS = frozenset({"refined", "edited"})
_INSERT_EVENT = (
    f"insert into draft_events ({', '.join(EVENT_COLUMNS)}) "
    f"values ({', '.join('?' * len(EVENT_COLUMNS))})"
)
_LATEST_VERSION = """
    select version from draft_events where draft_id = ? and version is not null
    order by id desc limit 1
"""
_CREATED_AT = "select created_at from draft_outcomes where draft_id = ?"
_HIGHEST_VERSION = "select max(version) from draft_events where draft_id = ?"
# Each event added to its draft's row of `draft_outcomes`, in the same transaction: what
# the report reads (one row a draft). Its person, kind, model and channel come from
# `created`; the first post and the first edit count; the latest rating wins.
_SUMMARISE = """
    insert into draft_outcomes (draft_id, created_at, user_id, kind, model, channel_id,
        posted_at, post_ms, discarded, expired, refinements, edited_at, feedback)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    on conflict (draft_id) do update set
        created_at = coalesce(draft_outcomes.created_at, excluded.created_at),
        user_id = coalesce(draft_outcomes.user_id, excluded.user_id),
        kind = coalesce(draft_outcomes.kind, excluded.kind),
        model = coalesce(draft_outcomes.model, excluded.model),
        channel_id = coalesce(draft_outcomes.channel_id, excluded.channel_id),
        posted_at = coalesce(draft_outcomes.posted_at, excluded.posted_at),
        post_ms = coalesce(draft_outcomes.post_ms, excluded.post_ms),
        discarded = draft_outcomes.discarded + excluded.discarded,
        expired = draft_outcomes.expired + excluded.expired,
        refinements = draft_outcomes.refinements + excluded.refinements,
        edited_at = coalesce(draft_outcomes.edited_at, excluded.edited_at),
        feedback = coalesce(excluded.feedback, draft_outcomes.feedback)
"""
_UNPOSTED = (
    "select id from drafts where updated_at < ? "
    "and coalesce(status, '') not in ('posted', 'discarded')"
)
# A draft purged before it was posted or discarded was abandoned: `expired`, recorded in the
# purge's own transaction (its model and version from its earlier events).
_EXPIRE_UNPOSTED = """
    insert into draft_events (at, draft_id, user_id, kind, channel_id, model, event, version)
    select ?, d.id, coalesce(d.user_id, ''), d.kind, d.channel_id,
        (select e.model from draft_events e
            where e.draft_id = d.id and e.event = 'created' order by e.id limit 1),
        'expired',
        (select e.version from draft_events e
            where e.draft_id = d.id and e.version is not null order by e.id desc limit 1)
    from drafts d
    where d.updated_at < ? and coalesce(d.status, '') not in ('posted', 'discarded')
"""


def expire_unposted(run: Run, older_than: str) -> None:
    """In the purge's transaction, before it deletes: the drafts it abandons, as events."""
    run(_EXPIRE_UNPOSTED, [utc_now_iso(), older_than])
    run(
        f"update draft_outcomes set expired = expired + 1 where draft_id in ({_UNPOSTED})",
        [older_than],
    )


# A person's recent drafts, newest first, with what is still retained of each.
_RECENT_DRAFTS = """
    select e.draft_id, e.kind, e.at, e.channel_id, d.status, d.text, d.request,
        d.channel_id as draft_channel_id,
        (select x.event from draft_events x
            where x.draft_id = e.draft_id and x.event in ('posted', 'discarded', 'expired')
            order by x.id desc limit 1) as ended
    from draft_events e left join drafts d on d.id = e.draft_id
    where e.user_id = ? and e.event = 'created'
    order by e.at desc, e.id desc limit ?
"""


def _summary_of(event: dict[str, Any], post_ms: int | None) -> list[Any]:
    """What one event adds to its draft's `draft_outcomes` row (`_SUMMARISE`'s values)."""
    name, at = event["event"], event["at"]
    created = name == "created"
    about = [event[c] if created else None for c in ("user_id", "kind", "model", "channel_id")]
    return [
        event["draft_id"], at if created else None, *about,
        at if name == "posted" else None, post_ms,
        int(name == "discarded"), int(name == "expired"), int(name == "refined"),
        at if name == "edited" else None,
        event["detail"] if name == "feedback" else None,
    ]  # fmt: skip


_ADD_REASON = """
    update draft_events set reason = ? where id = (
        select max(id) from draft_events
        where draft_id = ? and user_id = ? and event = 'feedback' and detail = 'down'
    )
"""


class DraftEventQueries:
    """Needs the `_run`, `_transaction` and `dialect` of `SqlStore`."""

    dialect: Dialect

    def _run(self, query: str, params: Sequence[Any] = ()) -> Result:
        raise NotImplementedError

    def _transaction(self, lock: str | None = None) -> AbstractContextManager[Run]:
        raise NotImplementedError

    def record_draft_event(self, row: dict[str, Any]) -> None:
        """Insert one event (`EVENT_COLUMNS`; `at` defaults to now). Without a `version`:
        1 for `created`; for `refined` and `edited` the draft's highest version plus one;
        for the rest the version the draft's latest event had (the one on screen)."""
        values = {column: row.get(column) for column in EVENT_COLUMNS}
        values["at"] = values["at"] or utc_now_iso()
        with self._transaction() as run:
            if values["version"] is None:
                values["version"] = self._version_for(
                    run, str(values["draft_id"]), str(values["event"])
                )
            run(_INSERT_EVENT, [values[column] for column in EVENT_COLUMNS])
            post_ms = self._post_ms(run, values) if values["event"] == "posted" else None
            run(_SUMMARISE, _summary_of(values, post_ms))

    def add_feedback_reason(self, draft_id: str, user_id: str, reason: str) -> bool:
        """The one-line reason for the person's latest 👎 of the draft, on that event (not a
        new one: a 👍 clicked in between stays the draft's rating). False: no such 👎."""
        updated = self._run(_ADD_REASON, [reason, draft_id, user_id])
        return updated.rowcount == 1

    @staticmethod
    def _post_ms(run: Run, event: dict[str, Any]) -> int | None:
        """Milliseconds from the draft's creation to this post (its first, if it is)."""
        made = run(_CREATED_AT, [event["draft_id"]]).rows
        if not made or made[0][0] is None:
            return None
        waited = datetime.fromisoformat(str(event["at"])) - datetime.fromisoformat(made[0][0])
        return max(int(waited.total_seconds() * 1000), 0)

    @staticmethod
    def _version_for(run: Run, draft_id: str, event: str) -> int | None:
        if event == "created":
            return 1
        if event in NEW_VERSION_EVENTS:
            (highest,) = run(_HIGHEST_VERSION, [draft_id]).one()
            return int(highest) + 1 if highest is not None else None
        latest = run(_LATEST_VERSION, [draft_id]).rows
        return int(latest[0][0]) if latest else None

    def draft_events(self, **where: Any) -> list[dict[str, Any]]:
        """Events in the order they were written, optionally filtered by column equality."""
        unknown = set(where) - set(EVENT_COLUMNS)
        if unknown:
            raise ValueError(f"draft_events has no column {', '.join(sorted(unknown))}")
        clause = " and ".join(f"{column} = ?" for column in where)
        query = f"select * from draft_events {'where ' + clause if where else ''} order by id"
        return self._run(query, list(where.values())).dicts()

    def recent_drafts(self, user_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """The person's latest drafts, newest first: `draft_id`, `kind`, `at` (created),
        `status` and `text` while the draft is retained (None once purged), `ended` (the
        last of posted / discarded / expired, or None)."""
        return self._run(_RECENT_DRAFTS, [user_id, limit]).dicts()

    def outcome_sums(self, start: str, end: str, group_by: GroupBy) -> list[tuple[Any, ...]]:
        """Per group of the drafts created in start <= at < end: (key, created, posted,
        discarded, abandoned, refinements of the posted ones, posted after an edit, last
        rated 👍, last rated 👎, the posted ones' milliseconds to post joined by commas).
        bot/outcomes.py turns these into the report's figures."""
        joined = self.dialect.int_list.format("post_ms")
        query = _OUTCOME_SUMS.format(key=OUTCOME_KEYS[group_by], post_ms=joined)
        return self._run(query, [start, end]).rows


# Report groupings over `draft_outcomes`: the usage report's (its columns have the same
# names: user_id, kind, model, channel_id, created_at), kind and model never NULL.
OUTCOME_KEYS: dict[str, str] = {
    **GROUP_COLUMNS,
    "kind": "coalesce(kind, '')",
    "model": "coalesce(model, '')",
}
_OUTCOME_SUMS = """
    select {key},
        count(*),
        cast(sum(case when posted_at is not null then 1 else 0 end) as bigint),
        cast(sum(case when posted_at is null and discarded > 0 then 1 else 0 end) as bigint),
        cast(sum(case when posted_at is null and discarded = 0 and expired > 0 then 1 else 0 end)
            as bigint),
        cast(sum(case when posted_at is not null then refinements else 0 end) as bigint),
        cast(sum(case when posted_at is not null and edited_at is not null
            and edited_at <= posted_at then 1 else 0 end) as bigint),
        cast(sum(case when feedback = 'up' then 1 else 0 end) as bigint),
        cast(sum(case when feedback = 'down' then 1 else 0 end) as bigint),
        {post_ms}
    from draft_outcomes where created_at >= ? and created_at < ? group by 1
"""
