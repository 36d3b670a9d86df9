"""One module per Slack surface; each `register(app, command)` is its route table.

A new surface is one module here plus one line in `SURFACES`.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.listeners import (
    actions,
    commands,
    feedback,
    history,
    home,
    messages,
    shortcuts,
    views,
)

SURFACES = (commands, actions, views, shortcuts, home, messages, feedback, history)


def register(app: AsyncApp, command: str) -> None:
    for surface in SURFACES:
        surface.register(app, command)
