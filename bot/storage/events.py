"""The queries over `draft_events` (bot/draft_events.py writes them), written once for both
databases, as a mixin of `bot.storage.base.SqlStore`: what happened to each draft, with no
draft text, kept like `usage` (the drafts themselves are purged).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from bot.storage.dialects import Result, Run
from bot.storage.records import utc_now_iso

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
_HIGHEST_VERSION = "select max(version) from draft_events where draft_id = ?"
# A draft purged before it was posted or discarded was abandoned: `expired`, recorded in the
# purge's own transaction (its model and version from its earlier events).
EXPIRE_UNPOSTED = """
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


class DraftEventQueries:
    """Needs the `_run` and `_transaction` of `SqlStore`."""

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

    def outcome_rows(self, start: str, end: str) -> list[tuple[Any, ...]]:
        """Per draft created in start <= at < end: (draft id, user, kind, model, channel,
        created at, first posted at or None, discarded 0/1, expired 0/1, refinements,
        edited before its first post 0/1, its last feedback: "up", "down" or None).
        bot/outcomes.py turns these into the report's figures."""
        return self._run(_OUTCOME_ROWS, [start, end]).rows


_OUTCOME_ROWS = """
    with drafts_made as (
        select draft_id, user_id, kind, model, channel_id, at from draft_events
        where event = 'created' and at >= ? and at < ?
    ), lives as (
        select m.draft_id,
            min(case when e.event = 'posted' then e.at end) as posted_at,
            max(case when e.event = 'discarded' then 1 else 0 end) as discarded,
            max(case when e.event = 'expired' then 1 else 0 end) as expired,
            cast(sum(case when e.event = 'refined' then 1 else 0 end) as bigint) as refinements,
            min(case when e.event = 'edited' then e.at end) as edited_at,
            max(case when e.event = 'feedback' then e.id end) as feedback_id
        from drafts_made m join draft_events e on e.draft_id = m.draft_id
        group by m.draft_id
    )
    select m.draft_id, m.user_id, coalesce(m.kind, ''), coalesce(m.model, ''),
        coalesce(m.channel_id, ''), m.at, l.posted_at, l.discarded, l.expired, l.refinements,
        case when l.edited_at is not null and l.posted_at is not null
            and l.edited_at <= l.posted_at then 1 else 0 end,
        f.detail
    from drafts_made m join lives l on l.draft_id = m.draft_id
        left join draft_events f on f.id = l.feedback_id
"""
