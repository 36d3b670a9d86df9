"""Usage rows the database could not take yet: kept, counted, and written exactly once later.

When `record_usage` fails (a lock held too long, a server down, a full disk, a read-only
file), the row goes here: in memory at once, and as one JSON line in an append-only file
(fsynced) when that file can be written, so a restart loses nothing. `replay` writes the
rows with `record_usage_once`, keyed, so a row written before a crash is not written again;
it runs as soon as writes work again and at every start. Budgets add the spend kept here.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from bot.storage.offloop import DatabaseUnavailable
from bot.storage.records import UsageRecord, utc_now_iso

log = logging.getLogger(__name__)

# Beyond this many rows kept in memory, Draftbot stops calling the model: it would be
# spending money it might not be able to account for.
MAX_PENDING_ROWS = 10_000


@dataclass(frozen=True)
class PendingRow:
    key: str
    record: UsageRecord
    maybe_written: bool = False  # the database may have taken it before failing


class UsageJournal:
    def __init__(self, path: Path | None, max_pending: int = MAX_PENDING_ROWS) -> None:
        self.path = path  # None: memory only
        self.max_pending = max_pending
        self._rows: dict[str, PendingRow] = {}
        self._lock = threading.Lock()
        self.failing_since: float | None = None  # time.monotonic() of the first failure
        if path is not None and path.exists():
            self._load(path)

    # ---------------------------------------------------------------- keeping

    def keep(self, record: UsageRecord, error: BaseException) -> None:
        """A row the database refused: keep it (with its time) and note the outage."""
        if not record.created_at:  # the time of the call, not of the replay
            record = replace(record, created_at=utc_now_iso())
        # A write known not to have happened says so (`applied=False`, or SQLite's errors,
        # which roll back); anything else (a connection lost mid-INSERT) may have landed.
        not_applied = getattr(error, "applied", None) is False or isinstance(
            error, sqlite3.Error | DatabaseUnavailable
        )
        row = PendingRow(uuid.uuid4().hex, record, maybe_written=not not_applied)
        with self._lock:
            self._rows[row.key] = row
            if self.failing_since is None:
                self.failing_since = time.monotonic()
            self._append(row)
        log.error(
            "usage row kept in the journal: the database refused it (%s); %d row(s) waiting",
            type(error).__name__,
            self.pending,
        )

    def database_failed(self) -> None:
        """A call other than a usage write failed: the outage clock starts all the same."""
        if self.failing_since is None:
            self.failing_since = time.monotonic()

    def database_ok(self) -> None:
        """A write worked: the outage, if any, is over."""
        self.failing_since = None

    @property
    def pending(self) -> int:
        return len(self._rows)

    @property
    def full(self) -> bool:
        return self.pending >= self.max_pending

    def outage_seconds(self) -> float:
        return 0.0 if self.failing_since is None else time.monotonic() - self.failing_since

    def pending_nano_usd(self, user_id: str, since: str) -> int:
        """What `user_id` spent from `since` (ISO-8601, UTC) in rows not yet written."""
        with self._lock:
            rows = list(self._rows.values())
        return sum(
            row.record.cost_nano_usd or 0
            for row in rows
            if row.record.user_id == user_id and (row.record.created_at or "") >= since
        )

    # ---------------------------------------------------------------- replaying

    def replay(self, store: Any) -> int:
        """Write the kept rows; return how many were written now. Stops at the first failure."""
        with self._lock:
            rows = list(self._rows.values())
        written = 0
        for row in rows:
            try:
                store.record_usage_once(row.key, row.record, row.maybe_written)
            except Exception as error:
                log.warning("journal replay paused (%s); will try again", type(error).__name__)
                break
            written += 1
            with self._lock:
                self._rows.pop(row.key, None)
        if rows and written == len(rows):
            self.database_ok()
        if written:
            with self._lock:
                self._rewrite()
            log.info("journal: wrote %d kept usage row(s); %d waiting", written, self.pending)
        return written

    # ---------------------------------------------------------------- the file

    def _append(self, row: PendingRow) -> None:
        if self.path is None:
            return
        line = json.dumps(_as_json(row)) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as file:
                file.write(line)
                file.flush()
                os.fsync(file.fileno())
        except OSError as error:
            log.error("could not write the usage journal %s: %s (kept in memory)", self.path, error)

    def _rewrite(self) -> None:
        """The file holds exactly the rows still waiting (written atomically)."""
        if self.path is None or not self.path.exists():
            return
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as file:
                for row in self._rows.values():
                    file.write(json.dumps(_as_json(row)) + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError as error:
            log.error("could not rewrite the usage journal %s: %s", self.path, error)

    def _load(self, path: Path) -> None:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                record = UsageRecord(**data["record"])
                row = PendingRow(str(data["key"]), record, bool(data.get("maybe_written")))
            except (ValueError, KeyError, TypeError):
                log.error("usage journal %s line %d is unreadable; skipped", path, number)
                continue
            self._rows[row.key] = row
        if self._rows:
            log.warning("usage journal %s holds %d row(s) to write", path, self.pending)


def _as_json(row: PendingRow) -> dict[str, Any]:
    return {"key": row.key, "record": asdict(row.record), "maybe_written": row.maybe_written}
