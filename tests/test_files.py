"""Files in: each format reaches the model as the right block, bad files get a sentence and
no model call, the budget counts a file's worst case, and refinements read files from the
cache. Through the real anthropic client against the fake API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anthropic
import pytest
import sqlite_utils

from bot import wording
from bot.drafting import DraftFailed, DraftRequest, FollowUp
from bot.files import FileRefused, SharedFile, limits, read_file, read_files
from bot.prompts import PromptKind
from tests import sample_files
from tests.conftest import API_KEY, RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.test_budgets import spend
from tests.test_cli import pythonpath, run

EVERY_FORMAT = [
    ("plan.pdf", "application/pdf", sample_files.pdf(["Roadmap: ship offline mode", "Risks"])),
    ("chart.png", "image/png", sample_files.png()),
    ("launch.docx", None, sample_files.docx()),
    ("budget.xlsx", None, sample_files.xlsx()),
    ("hours.csv", "text/csv", sample_files.CSV),
    ("notes.html", "text/html", sample_files.HTML),
]


def kind(bot: RunningBot, name: str = "summary") -> PromptKind:
    found = bot.services.library.find(name)
    assert found is not None
    return found


def refused(name: str, data: bytes, **fields: Any) -> str:
    with pytest.raises(FileRefused) as caught:
        read_file(SharedFile(name=name, data=data, **fields))
    return caught.value.user_message


def sent_body(fake: FakeAnthropic, index: int = -1) -> dict[str, Any]:
    body = fake.message_requests()[index].body
    assert body is not None
    return body


def breakpoints(body: dict[str, Any]) -> int:
    blocks = [*body["system"]]
    for message in body["messages"]:
        if isinstance(message["content"], list):
            blocks += message["content"]
    return sum(1 for block in blocks if "cache_control" in block)


async def test_each_format_reaches_the_model_as_its_block_with_one_breakpoint_after_them(
    bot: RunningBot, fake_anthropic: FakeAnthropic
) -> None:
    read = read_files([SharedFile(n, d, mimetype=m) for n, m, d in EVERY_FORMAT])
    assert read.refused == ()
    request = DraftRequest(
        kind=kind(bot), text="summarize this", user_id="U0ALEX", source="test", files=read.files
    )
    draft = await bot.services.drafter.draft(request)

    body = sent_body(fake_anthropic)
    content = body["messages"][0]["content"]
    types = [block["type"] for block in content]
    assert types == ["document", "image", "text", "text", "text", "text", "text"]
    assert content[0]["source"]["media_type"] == "application/pdf"
    assert content[0]["title"] == "plan.pdf"
    assert content[1]["source"]["media_type"] == "image/png"
    word, excel, csv, html, typed = (block["text"] for block in content[2:])
    assert "## Launch plan" in word and "| Priya | Lead |" in word
    assert "## Sheet: Budget" in excel and "## Sheet: Notes" in excel
    assert "| Total | 42 |" in excel and "SUM" not in excel  # the formula's value
    assert "| name | team | hours |\n|---|---|---|\n| Priya | Mobile | 12 |" in csv
    assert "# Release notes" in html and "| #12 | fixed |" in html
    assert "tracking" not in html and "color" not in html  # no script or style
    assert typed == "summarize this"
    # The breakpoint closes the files, not the request: the cache holds what refinements reuse.
    assert [i for i, b in enumerate(content) if "cache_control" in b] == [5]
    assert breakpoints(body) == 3 <= 4
    # The fake counted the PDF and the image as the API does (not as base64 text).
    assert draft.usage.cache_creation_input_tokens < 12_000
    [row] = bot.usage_rows()
    assert row["status"] == "ok" and row["kind"] == "summary"


async def test_a_refinement_reads_the_file_from_the_cache(
    bot: RunningBot, fake_anthropic: FakeAnthropic
) -> None:
    pdf = sample_files.pdf([f"Chapter {i}: " + "quarterly numbers " * 20 for i in range(4)])
    files = read_files([SharedFile("report.pdf", pdf)]).files
    first = DraftRequest(
        kind=kind(bot), text="summarize this", user_id="U0ALEX", source="test", files=files
    )
    original = await bot.services.drafter.draft(first)
    assert original.usage.cache_creation_input_tokens > 4 * 1_000  # the pages were written
    shorter = await bot.services.drafter.draft(
        DraftRequest(
            kind=first.kind,
            text=first.text,
            user_id="U0ALEX",
            source="shorter",
            files=files,
            follow_up=FollowUp(original.text, "Make it shorter."),
        )
    )
    assert shorter.usage.cache_read_input_tokens >= original.usage.cache_creation_input_tokens
    assert shorter.usage.cache_creation_input_tokens == 0
    assert breakpoints(sent_body(fake_anthropic)) == 3
    assert [r["source"] for r in bot.usage_rows()] == ["test", "shorter"]


@pytest.mark.env(DRAFTBOT_USER_MONTHLY_BUDGET_USD="1")
async def test_a_90_page_pdf_is_refused_on_a_nearly_spent_budget_before_any_model_call(
    bot: RunningBot, fake_anthropic: FakeAnthropic
) -> None:
    spend(bot.services.store, "U0ALEX", 900_000_000)  # $0.90 of $1.00
    files = read_files([SharedFile("board-pack.pdf", sample_files.pdf(["p"] * 90))]).files
    assert files[0].worst_tokens == 90 * limits.PDF_TOKENS_PER_PAGE
    request = DraftRequest(
        kind=kind(bot), text="summarize this", user_id="U0ALEX", source="test", files=files
    )
    with pytest.raises(DraftFailed) as caught:
        await bot.services.drafter.draft(request)
    assert caught.value.over_budget is not None
    why = re.search(r"could cost up to \$([\d.]+), and you have \$0\.10 left", str(caught.value))
    assert why is not None and float(why.group(1)) > 1.0, caught.value.user_message
    assert fake_anthropic.message_requests() == []
    # The same request without the file fits: the file's pages made the difference.
    await bot.services.drafter.draft(
        DraftRequest(kind=request.kind, text=request.text, user_id="U0ALEX", source="test")
    )
    assert len(fake_anthropic.message_requests()) == 1


def test_too_large_says_the_limit_and_the_size() -> None:
    message = refused("scan.pdf", b"%PDF-" + b"0" * (limits.MAX_FILE_BYTES + 1))
    assert message.startswith("scan.pdf is 20 MB, more than the 20 MB")
    big_image = refused("photo.png", b"\x89PNG" + b"0" * (4 * limits.MB))
    assert "photo.png is 4 MB, more than the 3.8 MB Draftbot can send Claude for one image" in (
        big_image
    )


def test_an_unsupported_type_names_the_supported_ones() -> None:
    message = refused("deck.pptx", b"PK\x03\x04")
    assert message == wording.FILE_UNSUPPORTED.format(
        name="deck.pptx", type=".pptx", formats=wording.FILE_FORMATS
    )
    assert "PDF, Word (.docx), Excel (.xlsx), CSV" in message


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("pay.pdf", sample_files.encrypted_pdf(), "pay.pdf is password-protected"),
        ("pay.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "is password-protected"),
        ("broken.pdf", b"%PDF-1.4\nnot really", "couldn't open broken.pdf"),
        ("fake.pdf", b"GIF89a", "isn't really a PDF"),
        ("broken.docx", b"not a zip", "isn't really a Word document"),
        ("broken.xlsx", b"PK\x03\x04nonsense", "isn't really an Excel spreadsheet"),
        ("photo.png", sample_files.png()[:40], "isn't really an image"),
        ("binary.txt", b"\x00\x01\x02ELF", "isn't really a text file"),
        ("empty.csv", b"\n\n", "found no text in empty.csv"),
        ("blank.docx", sample_files.docx(empty=True), "found no text in blank.docx"),
        ("huge.png", sample_files.png(8001, 10), "8,001 × 10 pixels, more than the 8,000 × 8,000"),
    ],
)
def test_bad_files_get_a_sentence(name: str, data: bytes, expected: str) -> None:
    assert expected in refused(name, data)


def test_a_long_pdf_is_cut_to_the_first_100_pages_and_says_so() -> None:
    read = read_file(SharedFile("manual.pdf", sample_files.pdf([f"page {i}" for i in range(130)])))
    assert read.note == "manual.pdf has 130 pages; Claude read the first 100."
    assert read.worst_tokens == 100 * limits.PDF_TOKENS_PER_PAGE
    import base64
    import io

    from pypdf import PdfReader

    sent = PdfReader(io.BytesIO(base64.b64decode(read.block["source"]["data"])))
    assert len(sent.pages) == 100


def test_several_files_read_those_that_work_and_list_those_that_did_not() -> None:
    read = read_files(
        [
            SharedFile("hours.csv", sample_files.CSV),
            SharedFile("deck.pptx", b"PK"),
            SharedFile("pay.pdf", sample_files.encrypted_pdf()),
        ]
    )
    assert [f.name for f in read.files] == ["hours.csv"]
    [note] = read.notes
    assert note.startswith("Draftbot couldn't read every file:\n• Draftbot can't read deck.pptx")
    assert "• pay.pdf is password-protected" in note


def test_a_file_name_cannot_mention_or_format() -> None:
    message = refused("<!channel> *x*.pptx", b"")
    assert "<!channel>" not in message and "*" not in message.split(".")[0]


async def test_the_fake_refuses_blocks_the_real_api_refuses(fake_anthropic: FakeAnthropic) -> None:
    client = anthropic.AsyncAnthropic(
        api_key=API_KEY, base_url=fake_anthropic.base_url, max_retries=0
    )
    png = read_file(SharedFile("chart.png", sample_files.png())).block
    wrong_type = {**png, "source": {**png["source"], "media_type": "image/jpeg"}}
    pdf = read_file(SharedFile("plan.pdf", sample_files.pdf(["x"] * 3))).block
    pages = read_file(SharedFile("plan.pdf", sample_files.pdf(["x"] * 3))).block
    too_many = sample_files.pdf(["x"] * 101)
    import base64

    cases = [
        (wrong_type, "Image does not match the provided media type image/jpeg"),
        ({**pdf, "source": {**pdf["source"], "data": "not base64!"}}, "valid base64"),
        (
            {**pages, "source": {**pages["source"], "data": base64.b64encode(too_many).decode()}},
            "A maximum of 100 PDF pages",
        ),
    ]
    try:
        for block, expected in cases:
            with pytest.raises(anthropic.BadRequestError, match=re.escape(expected)):
                await client.messages.create(
                    model="claude-sonnet-4-6",
                    max_tokens=100,
                    messages=[{"role": "user", "content": [block, {"type": "text", "text": "hi"}]}],
                )
        counted = await client.messages.count_tokens(
            model="claude-sonnet-4-6", messages=[{"role": "user", "content": [png]}]
        )
        assert counted.input_tokens == limits.image_tokens(300, 200)  # pixels / 750
    finally:
        await client.close()


def test_the_cli_drafts_from_files_with_the_real_client(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.default = Reply(text="The plan ships offline mode in March.")
    (tmp_path / "plan.pdf").write_bytes(sample_files.pdf(["Roadmap: offline mode in March"]))
    (tmp_path / "hours.csv").write_bytes(sample_files.CSV)
    (tmp_path / "deck.pptx").write_bytes(b"PK")
    env = {k: v for k, v in env.items() if not k.startswith("SLACK")}
    result = run(
        [
            "draft",
            "--file",
            "plan.pdf",
            "--file",
            "deck.pptx",
            "--file",
            "hours.csv",
            "summarize",
            "this for the team",
        ],
        {**env, **pythonpath()},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The plan ships offline mode in March.\n"
    assert "Draftbot can't read deck.pptx (.pptx)" in result.stderr
    assert "Traceback" not in result.stderr
    body = sent_body(fake_anthropic)
    assert [b["type"] for b in body["messages"][0]["content"]] == ["document", "text", "text"]
    db = sqlite_utils.Database(env["DATABASE_URL"].removeprefix("sqlite:///"))
    [row] = list(db["usage"].rows)
    assert (row["source"], row["kind"], row["status"]) == ("cli", "summary", "ok")


def test_the_cli_exits_1_with_a_sentence_when_no_file_can_be_read(
    tmp_path: Path, env: dict[str, str], fake_anthropic: FakeAnthropic
) -> None:
    (tmp_path / "pay.pdf").write_bytes(sample_files.encrypted_pdf())
    env = {k: v for k, v in env.items() if not k.startswith("SLACK")}
    result = run(
        ["draft", "--file", "pay.pdf", "summarize", "this"], {**env, **pythonpath()}, tmp_path
    )
    assert result.returncode == 1
    assert "pay.pdf is password-protected" in result.stderr and "Traceback" not in result.stderr
    assert fake_anthropic.message_requests() == []
