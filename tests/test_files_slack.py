"""Files shared in the Messages tab: downloaded with the bot token (files:read), checked
before downloading, read for Claude; the ones that can't be read are listed, never dropped."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot import wording
from bot.files import limits
from handlers.files import is_slack_file_host
from tests import sample_files
from tests.conftest import RunningBot
from tests.fakes.anthropic import FakeAnthropic, Reply
from tests.fakes.slack import FakeSlack
from tests.test_doctor import doctor, failed, manifest_scopes
from tests.test_messages_tab import finished_stream
from tests.test_previews import button, view_submission
from tests.test_summaries import PARENT_TS, shortcut, wait


def shared(text: str, files: list[dict[str, Any]], ts: str = "1700000002.000100") -> dict[str, Any]:
    return {
        "type": "message",
        "subtype": "file_share",
        "channel": "D0ALEX",
        "channel_type": "im",
        "user": "U0001",
        "text": text,
        "files": files,
        "ts": ts,
        "team": "T0001",
    }


def content_sent(fake_anthropic: FakeAnthropic) -> list[dict[str, Any]]:
    [request] = fake_anthropic.message_requests()
    assert request.body is not None
    content = request.body["messages"][0]["content"]
    assert isinstance(content, list)
    return content


def stream_words(stream: dict[str, Any]) -> str:
    return stream["text"] + json.dumps(stream["blocks"])


async def test_a_pdf_shared_with_words_is_drafted_from(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_anthropic.default = Reply(text="Offline mode ships in March; the risk is QA time.")
    pdf = fake_slack.add_file(
        "roadmap.pdf",
        sample_files.pdf(["Roadmap: offline mode in March"]),
        mimetype="application/pdf",
    )
    assert await bot.event(shared("summarize this", [pdf])) == 200
    stream = await finished_stream(fake_slack)
    assert stream["text"] == "Offline mode ships in March; the risk is QA time."
    assert fake_slack.file_downloads == [(pdf["id"], True)]
    content = content_sent(fake_anthropic)
    assert [b["type"] for b in content] == ["document", "text"]
    assert content[0]["title"] == "roadmap.pdf" and "cache_control" in content[0]
    assert content[1]["text"] == "summarize this"
    [row] = bot.usage_rows()
    assert (row["source"], row["kind"], row["status"]) == ("dm", "summary", "ok")


async def test_a_file_shared_without_words_is_summarized(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    sheet = fake_slack.add_file("budget.xlsx", sample_files.xlsx(), filetype="xlsx")
    await bot.event(shared("", [sheet]))
    await finished_stream(fake_slack)
    excel, typed = content_sent(fake_anthropic)
    assert "## Sheet: Budget" in excel["text"] and "| Total | 42 |" in excel["text"]
    assert typed["text"] == wording.FILE_ONLY_REQUEST
    assert bot.usage_rows()[0]["kind"] == "summary"


async def test_several_files_read_those_that_work_and_list_the_others(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    good = fake_slack.add_file("hours.csv", sample_files.CSV, mimetype="text/csv")
    image = fake_slack.add_file("chart.png", sample_files.png(), mimetype="image/png")
    deck = fake_slack.add_file("deck.pptx", b"PK\x03\x04")
    drive = fake_slack.add_file("plan.gdoc", b"", is_external=True)
    await bot.event(shared("draft a message to the team about this", [good, image, deck, drive]))
    stream = await finished_stream(fake_slack)
    assert [b["type"] for b in content_sent(fake_anthropic)] == ["text", "image", "text"]
    words = stream_words(stream)
    assert "Draftbot couldn't read every file" in words
    assert "Draftbot can't read deck.pptx (.pptx)" in words
    assert "plan.gdoc is stored outside Slack" in words
    # The external file's URL is never fetched: the token goes only to Slack's file host.
    assert drive["id"] not in {file_id for file_id, _ in fake_slack.file_downloads}


async def test_a_file_too_large_is_refused_before_downloading(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    scan = fake_slack.add_file("scan.pdf", b"%PDF-1.4", size=45 * limits.MB)
    await bot.event(shared("summarize this", [scan]))
    stream = await finished_stream(fake_slack)
    assert "scan.pdf is 45 MB, more than the 20 MB Draftbot can send Claude" in stream_words(stream)
    assert fake_slack.file_downloads == []
    assert fake_anthropic.message_requests() == []


async def test_without_files_read_the_person_hears_why_and_the_admin_how(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    fake_slack.scopes = [s for s in manifest_scopes() if s != "files:read"]
    full = fake_slack.add_file("notes.txt", b"Ship it", mimetype="text/plain")
    stub = fake_slack.add_file("plan.docx", sample_files.docx())
    stub = {"id": stub["id"], "mode": "hidden_by_limit", "file_access": "check_file_info"}
    await bot.event(shared("summarize this", [full, stub]))
    stream = await finished_stream(fake_slack)
    words = stream_words(stream)
    assert "Draftbot isn't allowed to open files yet, so it couldn't read notes.txt" in words
    assert "files:read" in words and "Traceback" not in words
    # Slack served its sign-in page, not the file; files.info said missing_scope.
    assert fake_slack.file_downloads == [(full["id"], False)]
    assert fake_slack.calls_to("files.info")[0].args["file"] == stub["id"]
    assert fake_anthropic.message_requests() == []


async def test_doctor_checks_the_files_read_scope(
    env: dict[str, str], fake_slack: FakeSlack
) -> None:
    fake_slack.scopes = [s for s in manifest_scopes() if s != "files:read"]
    checks, _ = await doctor(env)
    assert failed(checks) == {"Slack scopes"}
    assert "files:read" in checks["Slack scopes"].detail


async def test_a_refinement_downloads_the_file_again_and_reads_it_from_the_cache(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    pages = [f"Chapter {i}: " + "quarterly revenue grew " * 20 for i in range(4)]
    pdf = fake_slack.add_file("q3.pdf", sample_files.pdf(pages), mimetype="application/pdf")
    await bot.event(shared("summarize this", [pdf]))
    stream = await finished_stream(fake_slack)
    [actions] = [b for b in stream["blocks"] if b["type"] == "actions"]
    draft_id = actions["elements"][0]["value"]
    stored = bot.services.store.get_draft(draft_id)
    assert stored is not None and stored["file_ids"] == pdf["id"]
    assert "quarterly" not in json.dumps(stored)  # the file's id is kept, never its text

    response_url = fake_slack.new_response_url()
    status, _ = await bot.interact(button("shorter", draft_id, response_url))
    assert status == 200
    await asyncio.to_thread(fake_slack.wait_for_responses, response_url, 2, 10.0)
    first, shorter = sorted(bot.usage_rows(), key=lambda row: row["id"])
    assert shorter["source"] == "shorter"
    written = first["cache_creation_input_tokens"]
    assert shorter["cache_read_input_tokens"] >= written > 4_000
    assert fake_slack.file_downloads == [(pdf["id"], True), (pdf["id"], True)]
    refined = fake_anthropic.message_requests()[-1].body
    assert refined is not None
    assert [b["type"] for b in refined["messages"][0]["content"]] == ["document", "text"]


def seed_thread_with_files(fake_slack: FakeSlack, channel: str = "C0PROJ") -> dict[str, Any]:
    """A thread whose first message carries a PDF and whose reply carries a screenshot."""
    pdf = fake_slack.add_file(
        "contract.pdf", sample_files.pdf(["Term: 12 months"]), mimetype="application/pdf"
    )
    png = fake_slack.add_file("screenshot.png", sample_files.png(), mimetype="image/png")
    fake_slack.add_user("U0PRIYA", "priya", display_name="Priya")
    fake_slack.add_messages(
        channel,
        [
            {"ts": PARENT_TS, "user": "U0PRIYA", "text": "The contract", "files": [pdf]},
            {"ts": "1700000000.000200", "user": "U0PRIYA", "text": "and", "files": [png]},
        ],
        thread_ts=PARENT_TS,
    )
    return pdf


async def test_a_link_to_a_message_with_files_drafts_from_its_files(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread_with_files(fake_slack)
    link = "https://acme.slack.com/archives/C0PROJ/p1700000000000100"
    reply = await bot.slash(f"email to Priya about the term in <{link}>", channel_id="C0HERE")
    await wait(fake_slack, reply.response_url, 2)
    content = content_sent(fake_anthropic)
    assert [b["type"] for b in content] == ["document", "image", "text"]
    assert "[file: contract.pdf]" in content[-1]["text"]  # the transcript names them too


async def test_summarize_thread_on_a_thread_with_files_reads_them(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    pdf = seed_thread_with_files(fake_slack)
    url = fake_slack.new_response_url()
    await bot.interact(shortcut(url))
    *_, preview = await wait(fake_slack, url, 3)
    assert preview["blocks"][-1]["type"] == "actions"
    assert [b["type"] for b in content_sent(fake_anthropic)] == ["document", "image", "text"]
    draft = bot.services.store.get_draft(preview["blocks"][-1]["elements"][0]["value"])
    assert draft is not None and draft["file_ids"].split(",")[0] == pdf["id"]


async def test_files_in_a_conversation_the_person_cannot_read_are_not_fetched(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread_with_files(fake_slack, channel="G0SECRET")
    fake_slack.channel_members["G0SECRET"] = {"U0PRIYA"}
    link = "https://acme.slack.com/archives/G0SECRET/p1700000000000100"
    reply = await bot.slash(f"summary <{link}>", user_id="U0NOSY")
    [refusal] = await wait(fake_slack, reply.response_url, 1)
    assert "private conversation you're not in" in refusal["text"]
    assert fake_slack.file_downloads == [] and fake_anthropic.message_requests() == []


def test_the_token_goes_only_to_slacks_file_host() -> None:
    slack = "https://slack.com/api/"
    assert is_slack_file_host("https://files.slack.com/files-pri/T1-F1/download/a.pdf", slack)
    assert not is_slack_file_host("http://files.slack.com/files-pri/T1-F1/a.pdf", slack)
    assert not is_slack_file_host("https://files.slack.com.example.com/a.pdf", slack)
    assert not is_slack_file_host("https://drive.google.com/file/d/1", slack)
    proxy = "http://127.0.0.1:9000/api/"  # SLACK_API_URL overridden: its host, and port, only
    assert is_slack_file_host("http://127.0.0.1:9000/files-pri/T1-F1/download/a.pdf", proxy)
    assert not is_slack_file_host("http://127.0.0.1:9001/files-pri/T1-F1/download/a.pdf", proxy)


async def test_a_download_larger_than_slack_said_is_cut_off_while_streaming(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    big = sample_files.png() + b"\0" * (4 * limits.MB)
    image = fake_slack.add_file("photo.png", big, mimetype="image/png", size=2_000)
    await bot.event(shared("describe this", [image]))
    stream = await finished_stream(fake_slack)
    assert "more than the 3.8 MB Draftbot can send Claude for one image" in stream_words(stream)
    assert fake_anthropic.message_requests() == []


def file_shortcut(response_url: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    payload = shortcut(response_url)
    payload["callback_id"] = "draft_from_file"
    payload["message"] = {"type": "message", "ts": PARENT_TS, "user": "U0PRIYA", "files": files}
    return payload


async def test_draft_from_this_file_opens_the_form_with_the_files_and_drafts_from_them(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    pdf = fake_slack.add_file("contract.pdf", sample_files.pdf(["Term: 12 months"]))
    docx = fake_slack.add_file("notes.docx", sample_files.docx())
    url = fake_slack.new_response_url()
    status, _ = await bot.interact(file_shortcut(url, [pdf, docx]))
    assert status == 200
    assert await asyncio.to_thread(fake_slack.wait_for, lambda f: f.calls_to("views.open"), 5.0)
    view = fake_slack.calls_to("views.open")[0].args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert "Draftbot will read contract.pdf, notes.docx." in json.dumps(view["blocks"][0])
    assert fake_slack.file_downloads == []  # nothing is fetched until the form is sent
    values = {
        "kind": {"value": {"selected_option": {"value": "email"}}},
        "details": {"value": {"value": "to Priya asking about the renewal term"}},
    }
    _, body = await bot.interact(view_submission("draft_form", view["private_metadata"], values))
    assert body == {}
    working, preview = await wait(fake_slack, url, 2)
    assert working["text"] == "Drafting your email…"
    assert preview["blocks"][-1]["type"] == "actions"
    content = content_sent(fake_anthropic)
    assert [b["type"] for b in content] == ["document", "text", "text"]
    assert "## Launch plan" in content[1]["text"]
    assert [c.args["file"] for c in fake_slack.calls_to("files.info")] == [pdf["id"], docx["id"]]


async def test_draft_from_this_file_on_a_message_without_files_says_so(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    url = fake_slack.new_response_url()
    await bot.interact(file_shortcut(url, []))
    [said] = await wait(fake_slack, url, 1)
    assert said["text"] == wording.NO_FILES_IN_MESSAGE
    assert fake_slack.calls_to("views.open") == []


async def test_a_refinement_is_refused_once_the_person_cannot_read_the_conversation(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    seed_thread_with_files(fake_slack, channel="G0SECRET")
    fake_slack.channel_members["G0SECRET"] = {"U0PRIYA", "U0001"}
    link = "https://acme.slack.com/archives/G0SECRET/p1700000000000100"
    reply = await bot.slash(f"summary <{link}>")
    *_, preview = await wait(fake_slack, reply.response_url, 2)
    draft_id = preview["blocks"][-1]["elements"][0]["value"]
    downloads = len(fake_slack.file_downloads)
    fake_slack.channel_members["G0SECRET"].discard("U0001")  # they left the conversation
    url = fake_slack.new_response_url()
    await bot.interact(button("shorter", draft_id, url))
    *_, answer = await wait(fake_slack, url, 2)
    assert "private conversation you're not in" in json.dumps(answer)
    assert len(fake_slack.file_downloads) == downloads  # the files were not fetched again
    assert len(fake_anthropic.message_requests()) == 1


async def test_a_file_slack_will_not_show_the_bot_gets_a_sentence(
    bot: RunningBot, fake_anthropic: FakeAnthropic, fake_slack: FakeSlack
) -> None:
    # A Slack Connect stub for a file not shared anywhere the bot is: files.info refuses it.
    stub = {"id": "F0NOTHERE", "name": "board.pdf", "file_access": "check_file_info"}
    await bot.event(shared("summarize this", [stub]))
    stream = await finished_stream(fake_slack)
    assert "Slack didn't let Draftbot open board.pdf" in stream_words(stream)
    assert fake_slack.file_downloads == [] and fake_anthropic.message_requests() == []
