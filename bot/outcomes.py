"""What the money bought: outcome figures per report group, from `draft_events`
(bot/draft_events.py), defined exactly in docs/reports.md → "Outcomes".

A draft belongs to the period and the groups of its `created` event (its person, kind,
model, UTC day); everything that happened to it later counts with it, even after the
period ended. Costs stay with the usage rows (`bot.reports`): cost per draft and per posted
draft divide a group's cost by these counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import Any

from bot import wording
from bot.pricing import Cost, format_usd
from bot.storage import Storage
from bot.storage.records import GroupBy, parse_ints


@dataclass(frozen=True)
class Outcomes:
    created: int = 0  # drafts made (first versions; refinements are not new drafts)
    posted: int = 0  # drafts posted at least once (Post, an edit posted, Post again)
    discarded: int = 0  # Discard clicked, never posted
    abandoned: int = 0  # purged at the end of their retention, never posted or discarded
    refinements_of_posted: int = 0  # refinements of the drafts that were posted
    edited_before_posting: int = 0  # posted drafts whose text was edited before the first post
    thumbs_up: int = 0  # drafts whose last rating is 👍
    thumbs_down: int = 0  # drafts whose last rating is 👎
    # Per posted draft, milliseconds from its creation to its first post.
    post_ms: tuple[int, ...] = field(default=(), repr=False)

    @property
    def posted_share(self) -> float | None:
        return self.posted / self.created if self.created else None

    @property
    def refinements_per_posted(self) -> float | None:
        return self.refinements_of_posted / self.posted if self.posted else None

    @property
    def edited_share(self) -> float | None:
        return self.edited_before_posting / self.posted if self.posted else None

    @cached_property  # each format asks for it; a month has hundreds of thousands
    def median_seconds_to_post(self) -> float | None:
        """The middle value (the mean of the two middle ones for an even count)."""
        if not self.post_ms:
            return None
        import numpy as np  # loaded only to build a report, as bot.reports does

        return float(np.median(self.post_ms)) / 1000

    @property
    def rated(self) -> int:
        return self.thumbs_up + self.thumbs_down

    @property
    def thumbs_up_share(self) -> float | None:
        return self.thumbs_up / self.rated if self.rated else None

    def cost_per_draft(self, cost_nano_usd: int) -> Cost | None:
        return Cost.from_nano_usd(cost_nano_usd // self.created) if self.created else None

    def cost_per_posted(self, cost_nano_usd: int) -> Cost | None:
        return Cost.from_nano_usd(cost_nano_usd // self.posted) if self.posted else None

    def __add__(self, other: Outcomes) -> Outcomes:
        counts = {
            name: getattr(self, name) + getattr(other, name)
            for name in _COUNTS
        }  # fmt: skip
        return Outcomes(**counts, post_ms=self.post_ms + other.post_ms)


# In the order `Storage.outcome_sums` returns them.
_COUNTS = (
    "created", "posted", "discarded", "abandoned", "refinements_of_posted",
    "edited_before_posting", "thumbs_up", "thumbs_down",
)  # fmt: skip


def outcomes_by_group(
    store: Storage, start: str, end: str, group_by: GroupBy
) -> tuple[dict[str, Outcomes], Outcomes]:
    """Per group key, and over all, the outcomes of the drafts created in start <= at < end."""
    groups = {
        str(key): Outcomes(
            **{name: int(value or 0) for name, value in zip(_COUNTS, counts, strict=True)},
            post_ms=tuple(parse_ints(post_ms).tolist()),
        )
        for key, *counts, post_ms in store.outcome_sums(start, end, group_by)
    }
    return groups, combined(groups.values())


def combined(parts: Iterable[Outcomes]) -> Outcomes:
    """The outcomes of all `parts` together (as `+` does, without copying the times to post
    once per part)."""
    parts = list(parts)
    counts = {name: sum(getattr(part, name) for part in parts) for name in _COUNTS}
    return Outcomes(**counts, post_ms=tuple(chain.from_iterable(p.post_ms for p in parts)))


def least_posted(groups: Mapping[str, Outcomes], at_least: int = 5) -> tuple[str, float] | None:
    """The group with the lowest posted share among those with `at_least` drafts; None
    unless two groups or more have that many (one alone is not "least")."""
    shares = [
        (outcomes.posted_share, key)
        for key, outcomes in groups.items()
        if outcomes.created >= at_least and outcomes.posted_share is not None
    ]
    if len(shares) < 2:
        return None
    share, key = min(shares)
    return key, share


def outcome_values(outcomes: Outcomes, cost_nano_usd: int) -> dict[str, Any]:
    """A row's outcome figures as plain values: the CSV and JSON columns (docs/reports.md)."""

    def rounded(value: float | None, places: int = 4) -> float | None:
        return None if value is None else round(value, places)

    per_draft = outcomes.cost_per_draft(cost_nano_usd)
    per_posted = outcomes.cost_per_posted(cost_nano_usd)
    return {
        "drafts_created": outcomes.created,
        "drafts_posted": outcomes.posted,
        "drafts_discarded": outcomes.discarded,
        "drafts_abandoned": outcomes.abandoned,
        "posted_share": rounded(outcomes.posted_share),
        "refinements_per_posted": rounded(outcomes.refinements_per_posted, 2),
        "edited_share": rounded(outcomes.edited_share),
        "median_seconds_to_post": rounded(outcomes.median_seconds_to_post, 1),
        "thumbs_up": outcomes.thumbs_up,
        "thumbs_down": outcomes.thumbs_down,
        "thumbs_up_share": rounded(outcomes.thumbs_up_share),
        "cost_per_draft_usd": per_draft.exact() if per_draft else None,
        "cost_per_posted_usd": per_posted.exact() if per_posted else None,
    }


OUTCOME_COLUMNS = tuple(outcome_values(Outcomes(), 0))


def percent(share: float) -> str:
    """ "77 %": a share as the report's sentences write it."""
    return f"{share * 100:.0f} %"


def value_line(total: Outcomes, cost_nano_usd: int, by_kind: Mapping[str, Outcomes]) -> str | None:
    """ "312 drafts, 241 posted (77 %), $18.40, $0.076 per posted draft; summary drafts are
    posted least (41 %)", or None when no draft was made (no events: an older database)."""
    if not total.created:
        return None
    drafts = wording.counted(total.created, "draft", "drafts")
    cost = format_usd(cost_nano_usd)
    per_posted = total.cost_per_posted(cost_nano_usd)
    if per_posted is None or total.posted_share is None:
        return wording.REPORT_VALUE_NONE_POSTED.format(drafts=drafts, cost=cost)
    line = wording.REPORT_VALUE.format(
        drafts=drafts,
        posted=f"{total.posted:,}",
        share=percent(total.posted_share),
        cost=cost,
        per_posted=per_posted.display(),
    )
    if (least := least_posted(by_kind)) is not None:
        kind, share = least
        line += wording.REPORT_LEAST_POSTED.format(kind=kind, share=percent(share))
    return line
