"""Exact cost of a model request from the API's token figures and a price table (data, not code)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from bot.errors import SetupError
from bot.usage import TokenUsage

DEFAULT_PRICES_FILE = Path(__file__).parent / "data" / "prices.toml"
_PER_MILLION = Decimal(1_000_000)
_NANO = Decimal("0.000000001")
# The largest amount `parse_usd` accepts (a monthly budget of a million dollars is already
# absurd, and amounts stay far inside the 64-bit nano-dollar columns of the database).
MAX_USD = Decimal(1_000_000)


class PriceFileError(SetupError):
    """The price file is missing or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens."""

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal


@dataclass(frozen=True)
class Cost:
    """An exact amount in USD. Stored as whole nano-dollars so sums never drift."""

    usd: Decimal

    @property
    def nano_usd(self) -> int:
        return int(self.usd.quantize(_NANO) / _NANO)

    @classmethod
    def from_nano_usd(cls, nano_usd: int) -> Cost:
        return cls(Decimal(nano_usd) * _NANO)

    def exact(self) -> str:
        """All nine decimals, for CSV and JSON, so sums reconcile exactly."""
        return f"{self.usd.quantize(_NANO):f}"

    def display(self) -> str:
        return format_usd(self.nano_usd)


def format_usd(nano_usd: int) -> str:
    """Dollars for people, the same in Slack, the terminal and charts: cents from $1; up to
    four decimals below $1; two significant digits below a cent.

    >>> [format_usd(n) for n in (1_234_567_890_000, 120_000_000, 17_900_000, 1_234_000, 50_000)]
    ['$1,234.57', '$0.12', '$0.0179', '$0.0012', '$0.00005']
    """
    amount = abs(Decimal(nano_usd) * _NANO)
    sign = "-" if nano_usd < 0 else ""
    if amount >= 1 or amount == 0:
        places = 2
    elif amount >= Decimal("0.01"):
        places = 4
    else:
        places = min(9, 1 - amount.adjusted())
    text = f"{amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"
    if places > 2:
        whole, _, decimals = text.partition(".")
        text = f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"
    return f"{sign}${text}"


@dataclass(frozen=True)
class PriceTable:
    prices: dict[str, ModelPrice]

    def cost(self, model: str, usage: TokenUsage) -> Cost | None:
        """None when the model has no price: shown as "price unknown", never as $0."""
        price = self.prices.get(model)
        if price is None:
            return None
        # Cache writes not split by the API are priced at the 5-minute rate.
        unsplit_writes = usage.cache_creation_input_tokens - (
            usage.cache_creation_5m_input_tokens + usage.cache_creation_1h_input_tokens
        )
        total = (
            usage.input_tokens * price.input
            + usage.output_tokens * price.output
            + (usage.cache_creation_5m_input_tokens + max(unsplit_writes, 0)) * price.cache_write_5m
            + usage.cache_creation_1h_input_tokens * price.cache_write_1h
            + usage.cache_read_input_tokens * price.cache_read
        )
        return Cost(total / _PER_MILLION)

    def uncached_cost(self, model: str, usage: TokenUsage) -> Cost | None:
        """What the same tokens would have cost with no prompt caching at all."""
        price = self.prices.get(model)
        if price is None:
            return None
        total = usage.total_input_tokens * price.input + usage.output_tokens * price.output
        return Cost(total / _PER_MILLION)

    def savings(self, model: str, usage: TokenUsage) -> Cost | None:
        """Uncached cost minus actual cost: negative while the cache is only being written."""
        cost, uncached = self.cost(model, usage), self.uncached_cost(model, usage)
        if cost is None or uncached is None:
            return None
        return Cost(uncached.usd - cost.usd)

    def worst_case_cost(self, model: str, input_tokens: int, max_output_tokens: int) -> Cost | None:
        """An upper bound before the call: all input at the dearest input rate, full output."""
        price = self.prices.get(model)
        if price is None:
            return None
        dearest_input = max(price.input, price.cache_write_5m, price.cache_write_1h)
        total = input_tokens * dearest_input + max_output_tokens * price.output
        return Cost(total / _PER_MILLION)


def parse_usd(text: str) -> Decimal | None:
    """A dollar amount as people type it ("25", "$12.50"), from $0 to MAX_USD; None if it is
    not one ("lots", "NaN", "-5", "1e400")."""
    try:
        amount = Decimal(text.strip().removeprefix("$"))
    except ArithmeticError:
        return None
    return amount if amount.is_finite() and 0 <= amount <= MAX_USD else None


def usd_bounds() -> tuple[str, str]:
    """The smallest and largest amounts `parse_usd` accepts, for messages: ("$0.00", …)."""
    return format_usd(0), Cost(MAX_USD).display()


def load_price_table(path: Path | None = None) -> PriceTable:
    """Read prices from a TOML or JSON file (`{"models": {"<id>": {"input": "3.00", …}}}`)."""
    path = path or DEFAULT_PRICES_FILE
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as error:  # TOMLDecodeError and JSONDecodeError are ValueErrors
        raise PriceFileError(f"Cannot read the price file {path}: {error}") from error
    prices: dict[str, ModelPrice] = {}
    for model, row in (data.get("models") or {}).items():
        try:
            prices[model] = ModelPrice(
                **{key: Decimal(str(row[key])) for key in ModelPrice.__dataclass_fields__}
            )
        except (KeyError, ArithmeticError) as error:
            raise PriceFileError(
                f"{path}: model {model!r} needs input, output, cache_write_5m, "
                f"cache_write_1h and cache_read prices in USD per million tokens ({error})."
            ) from error
    return PriceTable(prices)
