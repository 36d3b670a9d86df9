"""What users see in Slack: mentions never ping, long drafts split cleanly."""

from __future__ import annotations

import pytest

from bot.slack_ids import MARKDOWN_LIMIT
from handlers.blocks.text import neutralize_mentions, split_markdown

WJ = "\u2060"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi <!here> team", f"Hi @{WJ}here team"),
        ("<!channel> update", f"@{WJ}channel update"),
        ("<!everyone|everyone> note", f"@{WJ}everyone note"),
        ("ping <!subteam^S012AB3|@design-team> now", f"ping @{WJ}design-team now"),
        ("ping <!subteam^S012AB3> now", f"ping @{WJ}group now"),
        ("@here please read", f"@{WJ}here please read"),
        ("@Channel loud", f"@{WJ}Channel loud"),
    ],
)
def test_broadcast_and_group_mentions_are_neutralised(text: str, expected: str) -> None:
    assert neutralize_mentions(text) == expected


def test_ordinary_text_and_emails_are_left_alone() -> None:
    text = "Email alex@here.com or write to <@U012AB3CD> about the channel budget."
    assert neutralize_mentions(text) == text


def test_short_text_is_one_part() -> None:
    assert split_markdown("hello") == ["hello"]


def test_long_text_splits_under_the_limit_at_paragraphs() -> None:
    paragraph = ("A sentence of the draft. " * 20).strip()
    text = "\n\n".join(f"{i}. {paragraph}" for i in range(60))
    parts = split_markdown(text, limit=2_000)
    assert len(parts) > 1
    assert all(len(part) <= 2_000 for part in parts)
    # Every paragraph survives whole, in order, and no part starts mid-paragraph.
    assert "\n\n".join(parts).replace("\n\n\n", "\n\n") == text
    assert all(part.lstrip()[0].isdigit() for part in parts)


def test_code_fence_spanning_a_split_is_closed_and_reopened() -> None:
    code = "\n".join(f"print({i})  # line {i}" for i in range(400))
    text = f"Here is the script:\n\n```python\n{code}\n```\n\nRun it with python."
    parts = split_markdown(text, limit=MARKDOWN_LIMIT // 4)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= MARKDOWN_LIMIT // 4
        assert part.count("```") % 2 == 0, "each part must have balanced fences"
    assert parts[1].startswith("```python")
    lines = [line for part in parts for line in part.splitlines() if line.startswith("print(")]
    assert len(lines) == 400


def test_a_single_huge_line_is_hard_wrapped() -> None:
    parts = split_markdown("x" * 30_000)
    assert all(len(part) <= MARKDOWN_LIMIT for part in parts)
    assert "".join(parts) == "x" * 30_000


def test_a_blank_line_inside_code_is_never_a_split_point() -> None:
    code = "\n\n".join(f"def f{i}():\n    return {i}" for i in range(300))
    text = "Intro paragraph.\n\n" + "```python\n" + code + "\n```\n\nThe end."
    parts = split_markdown(text, limit=3_000)
    assert len(parts) > 1
    for part in parts:
        assert part.count("```") % 2 == 0, part[:80]
        assert not part.startswith("```\n"), "a part must not start with a closing fence"
