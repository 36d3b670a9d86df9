"""`draftbot manifest`, registered on the `draftbot` group by bot/cli.py: prints the Slack app
manifest Draftbot ships (manifest.json for Socket Mode, manifest.http.json for HTTP mode),
with HTTP mode's Request URLs filled in for the host given."""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import urlsplit

import click

from bot.config import default_path

SOCKET_MANIFEST = "manifest.json"
HTTP_MANIFEST = "manifest.http.json"
# manifest.http.json's Request URLs start with this; --url replaces it.
PLACEHOLDER = "https://YOUR-HOST"


@click.command()
@click.option(
    "--http",
    "http_mode",
    is_flag=True,
    help="HTTP mode (Socket Mode off): Slack sends every request to a public URL.",
)
@click.option(
    "--url",
    metavar="https://HOST",
    help="Where Slack reaches this server in HTTP mode; fills in the Request URLs. Implies --http.",
)
def manifest(http_mode: bool, url: str | None) -> None:
    """Print the Slack app's manifest, for Socket Mode or (--http) HTTP mode.

    Paste it at api.slack.com/apps → Create New App → From an app manifest (or, for an
    existing app, under App Manifest). Without options it is manifest.json: Socket Mode, no
    public URL needed. With --http it is manifest.http.json, whose slash command,
    Interactivity & Shortcuts and Event Subscriptions send to https://HOST/slack/events;
    --url fills in HOST.

    \b
    Examples:
      draftbot manifest
      draftbot manifest --http --url https://draftbot.example.com
    """
    name = HTTP_MANIFEST if http_mode or url else SOCKET_MANIFEST
    path = default_path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        click.echo(f"Draftbot cannot read {path}: {error}", err=True)
        sys.exit(2)
    if url:
        data = _filled_in(data, _base_url(url, _placeholder_paths(data)))
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    if name == HTTP_MANIFEST and not url:
        click.echo(
            f"Replace {PLACEHOLDER} with this server's public address, or run "
            "draftbot manifest --http --url https://HOST to fill it in.",
            err=True,
        )


def _base_url(url: str, paths: set[str]) -> str:
    """https://HOST (with a path prefix, if any), from what the admin typed: a whole Request
    URL such as https://HOST/slack/events (one of `paths`) is taken too."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in url.strip()):
        raise click.BadParameter(
            f"must be an https:// address such as https://draftbot.example.com, not {url!r}: "
            "Slack sends requests only to https URLs.",
            param_hint="--url",
        )
    if parts.query or parts.fragment:
        raise click.BadParameter(
            f"must be the server's address without ? or #, not {url!r}.", param_hint="--url"
        )
    path = parts.path.rstrip("/")
    for request_path in paths:
        path = path.removesuffix(request_path)
    return f"https://{parts.netloc}{path}"


def _placeholder_paths(value: Any) -> set[str]:
    """The paths after the placeholder in the manifest's Request URLs (/slack/events)."""
    if isinstance(value, dict):
        return set().union(*map(_placeholder_paths, value.values()))
    if isinstance(value, list):
        return set().union(*map(_placeholder_paths, value))
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        return {value.removeprefix(PLACEHOLDER).rstrip("/")} - {""}
    return set()


def _filled_in(value: Any, base: str) -> Any:
    """`value` with every string that starts with the placeholder pointed at `base`."""
    if isinstance(value, dict):
        return {key: _filled_in(item, base) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled_in(item, base) for item in value]
    if isinstance(value, str) and value.startswith(PLACEHOLDER):
        return base + value.removeprefix(PLACEHOLDER)
    return value
