"""The queries for a draft's versions (`draft_versions`, migration 9), written once for
both databases; `bot.storage.base.SqlStore` inherits them. `drafts.text` stays the current
version's text (what Post, Edit, the canvas and the next refinement read); this table keeps
every version's, numbered, so the preview can compare and restore them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from bot.storage.dialects import Result, Run
from bot.storage.records import utc_now_iso
from bot.versions import FIRST

_INSERT = (
    "insert into draft_versions "
    "(draft_id, version, text, stop_reason, made_by, restored_from, created_at) "
    "values (?, ?, ?, ?, ?, ?, ?)"
)
_TAGS = (
    "select version, made_by, restored_from from draft_versions where draft_id = ? order by version"
)
# Run before the drafts go, in the purge's transaction (bot/storage/base.py).
PURGE_VERSIONS = (
    "delete from draft_versions where draft_id in (select id from drafts where updated_at < ?)"
)


class DraftVersionQueries(ABC):
    @abstractmethod
    def _run(self, query: str, params: Sequence[Any] = ()) -> Result: ...

    @abstractmethod
    def _transaction(self, lock: str | None = None) -> AbstractContextManager[Run]: ...

    def add_draft_version(
        self,
        draft_id: str,
        text: str,
        made_by: str,
        *,
        stop_reason: str,
        keep: int,
        restored_from: int | None = None,
        **changes: Any,
    ) -> list[dict[str, Any]]:
        """Make `text` the draft's next version and its current text (with `changes` to
        other columns of `drafts`, such as its status), keeping only the newest `keep`
        versions; in one transaction. Returns every version kept, oldest first, without text.

        A draft with no versions yet (never refined, or saved before migration 9) gets its
        current text as v1 first, dated when the draft was made: v1 costs no write until
        there is a v2. Raises LookupError for a draft that is gone."""
        now = utc_now_iso()
        with self._transaction(lock=draft_id) as run:
            draft = run(
                "select text, stop_reason, created_at from drafts where id = ?", [draft_id]
            ).rows
            if not draft:
                raise LookupError(f"no draft with id {draft_id!r}")
            (latest,) = run(
                "select max(version) from draft_versions where draft_id = ?", [draft_id]
            ).one()
            if latest is None:
                first_text, first_stop, made_at = draft[0]
                run(_INSERT, [draft_id, 1, first_text, first_stop, FIRST, None, made_at or now])
                latest = 1
            number = int(latest) + 1
            run(_INSERT, [draft_id, number, text, stop_reason, made_by, restored_from, now])
            run(
                "delete from draft_versions where draft_id = ? and version <= ?",
                [draft_id, number - keep],
            )
            values = {"text": text, "stop_reason": stop_reason, **changes, "updated_at": now}
            assignments = ", ".join(f'"{column}" = ?' for column in values)
            run(f"update drafts set {assignments} where id = ?", [*values.values(), draft_id])
            return run(_TAGS, [draft_id]).dicts()

    def draft_version_tags(self, draft_id: str) -> list[dict[str, Any]]:
        """The draft's versions, oldest first: number, what made it, what it restored."""
        return self._run(_TAGS, [draft_id]).dicts()

    def draft_version(self, draft_id: str, version: int) -> dict[str, Any] | None:
        """One version with its text, or None when it is not kept (or never was)."""
        rows = self._run(
            "select * from draft_versions where draft_id = ? and version = ?", [draft_id, version]
        ).dicts()
        return rows[0] if rows else None
