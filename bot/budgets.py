"""Monthly per-user budgets, checked before every model call.

A request reserves its worst-case cost while it is in flight and releases it once the real
cost is in the usage log, so a burst of parallel requests cannot overspend by more than one
request's worst case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot import wording
from bot.pricing import Cost, PriceTable, format_usd
from bot.reports import Period, month_of
from bot.storage import Storage

NOTICE_AT = Decimal("0.8")  # tell the user (once a month) and the admins at 80 %
# A reservation older than this was left by a process that died mid-draft: ignore it.
STALE_RESERVATION = timedelta(minutes=15)
# Upper estimate of tokens for text we have not sent yet (English averages ~4 chars/token).
CHARS_PER_TOKEN_ESTIMATE = 3


@dataclass(frozen=True)
class BudgetStatus:
    user_id: str
    month: Period
    limit_nano_usd: int | None  # None: unlimited
    spent_nano_usd: int
    drafts: int
    needed_nano_usd: int | None = None  # a refused draft's worst case, set aside before it

    @property
    def limited(self) -> bool:
        return self.limit_nano_usd is not None

    @property
    def spent(self) -> Cost:
        return Cost.from_nano_usd(self.spent_nano_usd)

    @property
    def limit(self) -> Cost | None:
        return None if self.limit_nano_usd is None else Cost.from_nano_usd(self.limit_nano_usd)

    @property
    def remaining(self) -> Cost | None:
        if self.limit_nano_usd is None:
            return None
        return Cost.from_nano_usd(max(self.limit_nano_usd - self.spent_nano_usd, 0))

    @property
    def used_fraction(self) -> Decimal:
        if not self.limit_nano_usd:
            return Decimal(1) if self.limit_nano_usd == 0 else Decimal(0)
        return Decimal(self.spent_nano_usd) / Decimal(self.limit_nano_usd)

    @property
    def resets_on(self) -> str:
        return f"{self.month.end:%-d %B}"


class OverBudget(Exception):
    def __init__(self, status: BudgetStatus) -> None:
        super().__init__(f"user {status.user_id} is over budget")
        self.status = status


@dataclass(frozen=True)
class ThresholdAlerts:
    """Who to tell that a user has passed 80 % of their budget (each once a month)."""

    status: BudgetStatus
    tell_user: bool
    tell_admins: bool


class Budgets:
    def __init__(
        self,
        store: Storage,
        prices: PriceTable,
        default_monthly_usd: Decimal | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        unwritten: Callable[[str, str], int] = lambda user_id, since: 0,
    ) -> None:
        self.unwritten = unwritten  # spend not in the database yet (the usage journal)
        self.store = store
        self.prices = prices
        self.default_nano_usd = None if default_monthly_usd is None else _nano(default_monthly_usd)
        self.clock = clock

    def limit_nano_usd(self, user_id: str) -> int | None:
        override = self.store.budget_override(user_id)
        return override if override is not None else self.default_nano_usd

    def status(self, user_id: str) -> BudgetStatus:
        month = month_of(self.clock())
        spent, drafts = self.store.user_spend_nano_usd(user_id, *month.iso_bounds())
        spent += self.unwritten(user_id, month.iso_bounds()[0])
        return BudgetStatus(user_id, month, self.limit_nano_usd(user_id), spent, drafts)

    def reserve(
        self, user_id: str, model: str, prompt_chars: int, max_tokens: int, file_tokens: int = 0
    ) -> int | None:
        """Reserve the worst-case cost; raise `OverBudget` when it does not fit. `file_tokens`:
        the worst case of the PDFs and images sent (pages × tokens a page, pixels / 750).

        Returns the reservation id to `release`, or None when nothing was reserved (no
        limit, or a model without a price, whose cost cannot be bounded).
        """
        limit = self.limit_nano_usd(user_id)
        if limit is None:
            return None
        worst = self.prices.worst_case_cost(
            model, prompt_chars // CHARS_PER_TOKEN_ESTIMATE + 1 + file_tokens, max_tokens
        )
        if worst is None:
            return None
        now = self.clock()
        month = month_of(now)
        unwritten = self.unwritten(user_id, month.iso_bounds()[0])
        reservation, spent, _ = self.store.reserve(
            user_id,
            worst.nano_usd + unwritten,
            limit_nano_usd=limit,
            month_start=month.iso_bounds()[0],
            month_end=month.iso_bounds()[1],
            now=now.isoformat(timespec="microseconds"),
            stale_before=(now - STALE_RESERVATION).isoformat(timespec="microseconds"),
        )
        if reservation is None:
            drafts = self.store.user_spend_nano_usd(user_id, *month.iso_bounds())[1]
            status = BudgetStatus(user_id, month, limit, spent + unwritten, drafts, worst.nano_usd)
            raise OverBudget(status)
        return reservation

    def release(self, reservation: int | None) -> None:
        if reservation is not None:
            self.store.release(reservation)

    def threshold_alerts(self, user_id: str, *, admins_listening: bool) -> ThresholdAlerts | None:
        """After a draft: has the user just reached 80 %? Each audience is told once a month."""
        status = self.status(user_id)
        if not status.limited or status.used_fraction < NOTICE_AT:
            return None
        month = status.month.start.strftime("%Y-%m")
        tell_user = self.store.claim_alert(user_id, month, "user")
        tell_admins = admins_listening and self.store.claim_alert(user_id, month, "admins")
        if not (tell_user or tell_admins):
            return None
        return ThresholdAlerts(status, tell_user, tell_admins)

    def set_limit(self, user_id: str, monthly_usd: Decimal, set_by: str) -> None:
        self.store.set_budget(user_id, _nano(monthly_usd), set_by)


def _nano(usd: Decimal) -> int:
    return Cost(usd).nano_usd


def over_budget_message(status: BudgetStatus, admins: str = wording.ADMIN_CONTACT_UNKNOWN) -> str:
    """Why a draft was refused: the budget is used up, or what is left is less than the
    most the draft could cost."""
    used_up = status.remaining is None or status.remaining.nano_usd == 0
    sentence = wording.OVER_BUDGET_USED_UP if used_up else wording.OVER_BUDGET
    needed = status.needed_nano_usd
    return sentence.format(
        spent=status.spent.display(),
        limit=status.limit.display() if status.limit else "-",
        left=status.remaining.display() if status.remaining else "-",
        needed=format_usd(needed) if needed is not None else "-",
        month=status.month.start.strftime("%B"),
        resets_on=status.resets_on,
        admins=admins,
    )
