"""Settings: read once from the environment (after `.env`), validated, immutable.

Every problem is collected and reported together, in words an admin can act on,
without ever echoing a secret's value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from dotenv import load_dotenv

from bot.access import AccessRules, parse_access
from bot.errors import SetupError
from bot.pricing import parse_usd, usd_bounds
from bot.slack_ids import CHANNEL_ID, USER_ID

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# An installed copy (wheel, pipx, a platform's build) carries the default prompts and Slack
# manifests here (pyproject.toml → force-include); a checkout has none here and reads its
# top-level prompts/ and manifest files, the ones an admin edits.
PACKAGED_DEFAULTS = Path(__file__).resolve().parent / "defaults"


def default_path(name: str) -> Path:
    """A file or folder Draftbot ships (`prompts`, `manifest.json`, `manifest.http.json`):
    the installed package's copy, or in a checkout the top-level one."""
    packaged = PACKAGED_DEFAULTS / name
    return packaged if packaged.exists() else PROJECT_ROOT / name


DEFAULT_PROMPTS_DIR = default_path("prompts")  # DRAFTBOT_PROMPTS_DIR overrides it

CacheTTL = Literal["5m", "1h"]
# DRAFTBOT_FEEDBACK_BUTTONS: Slack's feedback_buttons element, two plain buttons, or none.
FeedbackButtons = Literal["slack", "plain", "off"]

# A response_url works for 30 minutes: a queued request and its model call must both end
# well inside it, or the answer has nowhere to go.
RESPONSE_URL_LIFE_SECONDS = 30 * 60
# Default queue length per place in flight: at about 20 s a draft, what the model calls in
# flight clear within the default 120 s wait. Longer queues would mostly time out anyway.
QUEUE_PER_SLOT = 6

# Where each required secret comes from, so the error message says what to do.
_WHERE = {
    "SLACK_BOT_TOKEN": (
        "the Bot User OAuth Token (starts with xoxb-): api.slack.com/apps → your app → "
        "OAuth & Permissions → Install to Workspace"
    ),
    "SLACK_SIGNING_SECRET": (
        "api.slack.com/apps → your app → Basic Information → App Credentials → Signing Secret"
    ),
    "SLACK_APP_TOKEN": (
        "an app-level token (starts with xapp-) with the connections:write scope: "
        "api.slack.com/apps → your app → Basic Information → App-Level Tokens"
    ),
    "ANTHROPIC_API_KEY": "console.anthropic.com → Settings → API Keys",
}


class ConfigError(SetupError):
    """One or more settings are missing or malformed; `problems` lists each in plain words."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def report(self) -> str:
        lines = ["Draftbot cannot start: please fix these settings (in .env or the environment):"]
        lines += [f"  - {problem}" for problem in self.problems]
        lines.append("See .env.example and the Settings section of README.md.")
        return "\n".join(lines)


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = field(repr=False)
    slack_signing_secret: str = field(repr=False)
    slack_app_token: str = field(repr=False)
    slack_api_url: str
    anthropic_api_key: str = field(repr=False)
    anthropic_base_url: str | None
    model: str
    command: str
    database_path: str  # the SQLite file; "" for PostgreSQL
    port: int
    admin_user_ids: frozenset[str]
    prompts_dir: Path
    cache_ttl: CacheTTL
    prices_file: Path | None = None
    user_monthly_budget_usd: Decimal | None = None  # None: unlimited
    alert_channel: str | None = None
    draft_retention_days: int = 7
    database_url: str = "sqlite:///draftbot.db"
    max_concurrency: int = 100
    max_queue: int = QUEUE_PER_SLOT * 100  # requests waiting for a place; more are turned away
    max_queue_wait_seconds: float = 120.0  # a request waiting longer is told so and dropped
    model_deadline_seconds: float = 90.0  # every attempt of one model call, and its stream
    shutdown_grace_seconds: float = 25.0
    log_format: Literal["text", "json"] = "text"
    journal_path: Path | None = None  # None: usage rows the database refuses are kept in memory
    database_outage_seconds: float = 300.0
    feedback_buttons: FeedbackButtons = "slack"  # DRAFTBOT_FEEDBACK_BUTTONS
    port_is_set: bool = False  # PORT given: Socket Mode answers GET /healthz on it too
    # Who may use Draftbot, and where: DRAFTBOT_ALLOWED_USERS, DRAFTBOT_ALLOWED_CHANNELS,
    # DRAFTBOT_BLOCKED_CHANNELS, DRAFTBOT_DMS, DRAFTBOT_GUESTS (parsed in bot/access.py).
    access: AccessRules = field(default_factory=AccessRules)

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    need_slack: bool = True,
    need_anthropic: bool = True,
    dotenv_path: str | os.PathLike[str] | None = None,
) -> Settings:
    """Build `Settings` from `environ` (default: `.env` merged under `os.environ`).

    `need_slack=False` is for terminal commands (`draftbot draft`) that never talk to Slack,
    `need_anthropic=False` for those that never call the model.
    """
    if environ is None:
        load_dotenv(dotenv_path or Path.cwd() / ".env", override=False)
        environ = os.environ
    env = {key: value.strip() for key, value in environ.items()}
    problems: list[str] = []

    def missing(name: str) -> None:
        problems.append(f"{name} is not set. Get it from {_WHERE[name]}.")

    bot_token = env.get("SLACK_BOT_TOKEN", "")
    app_token = env.get("SLACK_APP_TOKEN", "")
    signing_secret = env.get("SLACK_SIGNING_SECRET", "")
    if need_slack:
        if not bot_token:
            missing("SLACK_BOT_TOKEN")
        elif not bot_token.startswith("xoxb-"):
            hint = " (xoxp- is a user token)" if bot_token.startswith("xoxp-") else ""
            problems.append(
                f"SLACK_BOT_TOKEN must start with xoxb-{hint}. Use {_WHERE['SLACK_BOT_TOKEN']}."
            )
        if app_token and not app_token.startswith("xapp-"):
            problems.append(
                f"SLACK_APP_TOKEN must start with xapp-. Use {_WHERE['SLACK_APP_TOKEN']}."
            )
        if not app_token and not signing_secret:
            problems.append(
                "Neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET is set. For Socket Mode "
                f"(the default in manifest.json) set SLACK_APP_TOKEN: {_WHERE['SLACK_APP_TOKEN']}."
                " For HTTP mode set SLACK_SIGNING_SECRET: "
                f"{_WHERE['SLACK_SIGNING_SECRET']}."
            )

    api_key = env.get("ANTHROPIC_API_KEY", "")
    if need_anthropic and not api_key:
        missing("ANTHROPIC_API_KEY")

    slack_api_url = env.get("SLACK_API_URL") or "https://slack.com/api/"
    if not _is_http_url(slack_api_url):
        problems.append("SLACK_API_URL must be an http(s) URL, like https://slack.com/api/.")
    slack_api_url = slack_api_url.rstrip("/") + "/"

    anthropic_base_url = env.get("ANTHROPIC_BASE_URL") or None
    if anthropic_base_url and not _is_http_url(anthropic_base_url):
        problems.append(
            "ANTHROPIC_BASE_URL must be an http(s) URL, like https://api.anthropic.com."
        )

    model = env.get("DRAFTBOT_MODEL") or "claude-sonnet-4-6"

    command = env.get("DRAFTBOT_COMMAND") or "/draft"
    if not re.fullmatch(r"/[a-z0-9_-]{1,31}", command):
        problems.append(
            "DRAFTBOT_COMMAND must be a slash command such as /draft "
            "(a slash, then up to 31 lower-case letters, digits, - or _)."
        )

    database_path = ""
    database_url = env.get("DATABASE_URL") or "sqlite:///draftbot.db"
    if database_url.startswith("sqlite:///") and len(database_url) > len("sqlite:///"):
        database_path = database_url.removeprefix("sqlite:///")
    elif not re.match(r"postgres(ql)?://[^/]", database_url):
        problems.append(
            "DATABASE_URL must look like sqlite:///draftbot.db (relative path), "
            "sqlite:////var/lib/draftbot/draftbot.db (absolute path) or "
            "postgresql://user:password@host:5432/draftbot."
        )

    port = 0
    port_text = env.get("PORT") or "3000"
    if port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        problems.append(f"PORT must be a number between 1 and 65535, not {port_text!r}.")

    admins = [item.strip() for item in env.get("ADMIN_USER_IDS", "").split(",") if item.strip()]
    bad_admins = [item for item in admins if not USER_ID.fullmatch(item)]
    if bad_admins:
        problems.append(
            "ADMIN_USER_IDS must be Slack member IDs separated by commas (like U012AB3CD): "
            f"these are not: {', '.join(bad_admins)}. "
            "In Slack, open a profile → ⋮ → Copy member ID."
        )

    prompts_dir = Path(env.get("DRAFTBOT_PROMPTS_DIR") or DEFAULT_PROMPTS_DIR)
    if not prompts_dir.is_dir():
        problems.append(f"DRAFTBOT_PROMPTS_DIR: no such folder: {prompts_dir}.")

    cache_ttl = env.get("DRAFTBOT_CACHE_TTL") or "5m"
    if cache_ttl not in ("5m", "1h"):
        problems.append(f"DRAFTBOT_CACHE_TTL must be 5m or 1h, not {cache_ttl!r}.")

    prices_file = Path(env["DRAFTBOT_PRICES_FILE"]) if env.get("DRAFTBOT_PRICES_FILE") else None
    if prices_file and not prices_file.is_file():
        problems.append(f"DRAFTBOT_PRICES_FILE: no such file: {prices_file}.")

    budget_text = env.get("DRAFTBOT_USER_MONTHLY_BUDGET_USD", "")
    budget = parse_usd(budget_text) if budget_text else None
    if budget_text and budget is None:
        lowest, highest = usd_bounds()
        problems.append(
            "DRAFTBOT_USER_MONTHLY_BUDGET_USD must be an amount in US dollars such as 25 "
            f"or 12.50, from {lowest} to {highest} (leave it unset for no limit), "
            f"not {budget_text!r}."
        )

    alert_channel = env.get("DRAFTBOT_ALERT_CHANNEL") or None
    if alert_channel and not CHANNEL_ID.fullmatch(alert_channel):
        problems.append(
            "DRAFTBOT_ALERT_CHANNEL must be a channel ID like C0123ABCD (in Slack: open the "
            "channel → its name → the ID is at the bottom), not a channel name."
        )

    retention_text = env.get("DRAFTBOT_DRAFT_RETENTION_DAYS") or "7"
    retention = int(retention_text) if retention_text.isdigit() else 0
    if retention < 1:
        problems.append(
            "DRAFTBOT_DRAFT_RETENTION_DAYS must be a whole number of days, 1 or more, "
            f"not {retention_text!r}."
        )

    concurrency_text = env.get("DRAFTBOT_MAX_CONCURRENCY") or "100"
    concurrency = int(concurrency_text) if concurrency_text.isdigit() else 0
    if concurrency < 1:
        problems.append(
            "DRAFTBOT_MAX_CONCURRENCY must be a whole number, 1 or more (model calls in "
            f"flight at once), not {concurrency_text!r}."
        )

    queue_text = env.get("DRAFTBOT_MAX_QUEUE") or str(QUEUE_PER_SLOT * max(concurrency, 1))
    max_queue = int(queue_text) if queue_text.isdigit() else -1
    if max_queue < 0:
        problems.append(
            "DRAFTBOT_MAX_QUEUE must be a whole number, 0 or more (requests waiting for Claude "
            f"beyond DRAFTBOT_MAX_CONCURRENCY; more are turned away), not {queue_text!r}."
        )
    queue_wait = _seconds(env, "DRAFTBOT_MAX_QUEUE_WAIT_SECONDS", "120", problems)
    deadline = _seconds(env, "DRAFTBOT_MODEL_DEADLINE_SECONDS", "90", problems)
    if queue_wait + deadline >= RESPONSE_URL_LIFE_SECONDS:
        problems.append(
            "DRAFTBOT_MAX_QUEUE_WAIT_SECONDS and DRAFTBOT_MODEL_DEADLINE_SECONDS together must "
            "stay under 30 minutes (1800 s), the life of the link Slack gives for the answer, "
            f"not {queue_wait:g} + {deadline:g} s."
        )

    grace_text = env.get("DRAFTBOT_SHUTDOWN_GRACE_SECONDS") or "25"
    try:
        grace = float(grace_text)
    except ValueError:
        grace = -1.0
    if not 0 <= grace <= 3600:
        problems.append(
            "DRAFTBOT_SHUTDOWN_GRACE_SECONDS must be a number of seconds such as 25, "
            f"not {grace_text!r}."
        )

    journal_text = env.get("DRAFTBOT_JOURNAL_PATH") or ""
    journal_path = Path(journal_text).expanduser() if journal_text else default_journal_path(env)

    outage_text = env.get("DRAFTBOT_DATABASE_OUTAGE_SECONDS") or "300"
    outage = float(outage_text) if outage_text.replace(".", "", 1).isdigit() else -1.0
    if outage < 0:
        problems.append(
            "DRAFTBOT_DATABASE_OUTAGE_SECONDS must be a number of seconds such as 300, "
            f"not {outage_text!r}."
        )

    access = parse_access(env, problems)

    feedback_text = (env.get("DRAFTBOT_FEEDBACK_BUTTONS") or "slack").lower()
    feedback: FeedbackButtons = "slack"
    if feedback_text in ("plain", "off"):
        feedback = "plain" if feedback_text == "plain" else "off"
    elif feedback_text != "slack":
        problems.append(
            f"DRAFTBOT_FEEDBACK_BUTTONS must be slack, plain or off, not {feedback_text!r}."
        )

    log_format = (env.get("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        problems.append(f"LOG_FORMAT must be text or json, not {log_format!r}.")

    if problems:
        raise ConfigError(problems)
    return Settings(
        slack_bot_token=bot_token,
        slack_signing_secret=signing_secret,
        slack_app_token=app_token,
        slack_api_url=slack_api_url,
        anthropic_api_key=api_key,
        anthropic_base_url=anthropic_base_url,
        model=model,
        command=command,
        database_path=database_path,
        port=port,
        admin_user_ids=frozenset(admins),
        prompts_dir=prompts_dir,
        cache_ttl="1h" if cache_ttl == "1h" else "5m",
        prices_file=prices_file,
        user_monthly_budget_usd=budget,
        alert_channel=alert_channel,
        draft_retention_days=retention,
        database_url=database_url,
        max_concurrency=concurrency,
        max_queue=max_queue,
        max_queue_wait_seconds=queue_wait,
        model_deadline_seconds=deadline,
        shutdown_grace_seconds=grace,
        log_format="json" if log_format == "json" else "text",
        journal_path=journal_path,
        database_outage_seconds=outage,
        feedback_buttons=feedback,
        port_is_set=bool(env.get("PORT")),
        access=access,
    )


def default_journal_path(env: Mapping[str, str]) -> Path:
    """Outside the database's folder, so a full or read-only database disk spares it."""
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "draftbot" / "usage-journal.jsonl"


def _seconds(env: Mapping[str, str], name: str, default: str, problems: list[str]) -> float:
    """A positive number of seconds under 30 minutes; 0 (with a problem noted) otherwise."""
    text = env.get(name) or default
    seconds = float(text) if text.replace(".", "", 1).isdigit() else 0.0
    if not 0 < seconds < RESPONSE_URL_LIFE_SECONDS:
        problems.append(
            f"{name} must be a number of seconds above 0 and under 1800 (30 minutes), such as "
            f"{default}, not {text!r}."
        )
        return 0.0
    return seconds


def _is_http_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)
