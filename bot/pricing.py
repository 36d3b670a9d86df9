"""Exact cost of a model request from the API's token figures and a price table (data, not code)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bot.usage import TokenUsage

DEFAULT_PRICES_FILE = Path(__file__).parent / "data" / "prices.toml"
_PER_MILLION = Decimal(1_000_000)
_NANO = Decimal("0.000000001")


class PriceFileError(Exception):
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
        """Dollars for people: cents from $1 (or -$1), otherwise four decimals."""
        sign, amount = ("-", -self.usd) if self.usd < 0 else ("", self.usd)
        if amount >= 1:
            return f"{sign}${amount:,.2f}"
        return f"{sign}${amount:.4f}"


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
    """A non-negative dollar amount as people type it ("25", "$12.50"); None if it is not one."""
    try:
        amount = Decimal(text.strip().removeprefix("$"))
    except ArithmeticError:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


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
