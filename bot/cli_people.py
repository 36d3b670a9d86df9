"""People as the `draftbot` commands show them: "Alex Chen (U0ALEX)", names from Slack when
SLACK_BOT_TOKEN is set, otherwise from the database's cache; the id alone when no name is
known (and for "cli", which is nobody in Slack)."""

from __future__ import annotations

from bot.config import Settings
from bot.storage import Storage


def shown_names(settings: Settings, store: Storage, user_ids: list[str]) -> dict[str, str]:
    import asyncio

    from bot.services import build_slack_client
    from handlers.people import People

    people = People(store, build_slack_client(settings), settings.admin_user_ids)
    unique = sorted(set(user_ids))
    names = asyncio.run(people.names(unique)) if unique else {}
    return {uid: uid if names.get(uid, uid) == uid else f"{names[uid]} ({uid})" for uid in unique}
