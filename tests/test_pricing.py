"""Exact cost from the API's token figures and the price table."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.pricing import Cost, PriceFileError, load_price_table
from bot.usage import TokenUsage


def test_sonnet_cost_with_cache_write_and_read_matches_hand_arithmetic() -> None:
    prices = load_price_table()
    usage = TokenUsage(
        input_tokens=100,
        output_tokens=200,
        cache_creation_input_tokens=3_000,
        cache_read_input_tokens=4_000,
        cache_creation_5m_input_tokens=3_000,
    )
    cost = prices.cost("claude-sonnet-4-6", usage)
    # 100×3 + 200×15 + 3000×3.75 + 4000×0.30 = 300 + 3000 + 11250 + 1200 = 15750 per million
    assert cost == Cost(Decimal("0.01575"))
    assert cost.nano_usd == 15_750_000


def test_one_hour_cache_writes_are_priced_at_the_one_hour_rate() -> None:
    prices = load_price_table()
    usage = TokenUsage(cache_creation_input_tokens=1_000, cache_creation_1h_input_tokens=1_000)
    assert prices.cost("claude-sonnet-4-6", usage) == Cost(Decimal("0.006"))


def test_haiku_cache_read_is_exact_below_a_micro_dollar() -> None:
    cost = load_price_table().cost("claude-haiku-4-5", TokenUsage(cache_read_input_tokens=7))
    assert cost is not None and cost.nano_usd == 700


def test_unknown_model_has_no_price_rather_than_zero() -> None:
    assert load_price_table().cost("claude-made-up-9", TokenUsage(input_tokens=10)) is None


def test_price_file_override_and_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "prices.toml"
    good.write_text(
        '[models."m"]\ninput = "1"\noutput = "2"\ncache_write_5m = "1.25"\n'
        'cache_write_1h = "2"\ncache_read = "0.1"\n'
    )
    assert load_price_table(good).cost("m", TokenUsage(output_tokens=500_000)) == Cost(Decimal(1))
    bad = tmp_path / "bad.toml"
    bad.write_text('[models."m"]\ninput = "1"\n')
    with pytest.raises(PriceFileError, match="cache_read"):
        load_price_table(bad)
