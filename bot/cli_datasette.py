"""`draftbot datasette`, registered on the `draftbot` group by bot/cli.py: the SQLite database
in Datasette, read-only, with bot/data/datasette.yml (descriptions, canned queries with
people's names, the drafts table hidden).

Datasette is an optional extra (`pip install 'draftbot[datasette]'`) and runs as a child
process (`python -m datasette`), so nothing here imports it: `draftbot --help` stays quick.
By default it opens a snapshot taken with SQLite's backup API: consistent while
`draftbot serve` writes, rows still in the write-ahead log included, the drafts' text
blanked, and opened immutable (`-i`), so neither Datasette nor a plugin can write to the
real file (whose usage_daily triggers would fire).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

import click

from bot.cli_common import settings_or_exit

METADATA_FILE = Path(__file__).parent / "data" / "datasette.yml"
PLUGINS_DIR = Path(__file__).parent / "datasette_plugins"  # names beside Slack ids
METADATA_DATABASE = "draftbot"  # the database's name in datasette.yml
DEFAULT_PORT = 8001
INSTALL_HINT = (
    "Datasette is not installed. Install it beside Draftbot with "
    "`pip install 'draftbot[datasette]'` (from a checkout: "
    "`.venv/bin/pip install -e '.[datasette]'`; with pipx: `pipx inject draftbot datasette`)."
)


@click.command(context_settings={"ignore_unknown_options": True})
@click.option(
    "--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port on 127.0.0.1."
)
@click.option("--open", "open_browser", is_flag=True, help="Open it in the web browser.")
@click.option(
    "--no-snapshot",
    is_flag=True,
    help="Open the file itself (immutable): no copy, but stop draftbot serve first.",
)
@click.argument("datasette_args", nargs=-1, type=click.UNPROCESSED)
def datasette(
    port: int, open_browser: bool, no_snapshot: bool, datasette_args: tuple[str, ...]
) -> None:
    """Explore the usage log in Datasette, read-only, on http://127.0.0.1:8001.

    Tables and columns are described, the drafts table (people's text) is hidden, and
    canned queries show this month by person and by kind, the prompt cache's share and
    recent failures, with people's names. SQLite only (DATABASE_URL=sqlite:///…).

    It opens a snapshot of the database taken when it starts (run it again to see newer
    rows), without the drafts' text. Arguments after -- go to `datasette serve`.

    \b
    Needs Datasette: pip install 'draftbot[datasette]'

    \b
    Examples:
      draftbot datasette --open
      draftbot datasette --port 8010
      draftbot datasette -- --get /draftbot/this_month_by_person.json
    """
    settings = settings_or_exit(need_slack=False, need_anthropic=False)
    if not settings.database_path:
        _fail(
            "Datasette reads SQLite files, and DATABASE_URL is a PostgreSQL database. "
            "Use psql, or a tool such as Metabase or Grafana, for PostgreSQL."
        )
    if not datasette_installed():
        _fail(INSTALL_HINT)
    import importlib.metadata  # here, not at the top: every draftbot command loads this module

    if importlib.metadata.version("datasette").split(".")[0] != "0":
        if no_snapshot:  # the drafts table would be shown, with people's text
            _fail("--no-snapshot needs Datasette 0.x: pip install 'draftbot[datasette]'.")
        click.echo(
            "Note: this Datasette is 1.0 or later, which reads canned queries and hidden "
            "tables from a configuration file, not from metadata; install datasette<1 "
            "(pip install 'draftbot[datasette]') to have them.",
            err=True,
        )
    database = Path(settings.database_path)
    if not database.is_file():
        _fail(
            f"There is no database at {database.resolve()} (from DATABASE_URL): nothing to "
            "open. Check DATABASE_URL; Draftbot creates the file when it first runs."
        )
    if not _schema_is_current(database):  # the canned queries read the newest tables
        _fail(
            f"{database.resolve()} was last upgraded by an older Draftbot. Start `draftbot "
            "serve` once (it upgrades the database when it starts), then run this again."
        )
    with tempfile.TemporaryDirectory(prefix="draftbot-datasette-") as folder:
        opened = database if no_snapshot else Path(folder) / database.name
        if not no_snapshot:
            started = time.monotonic()
            try:
                take_snapshot(database, opened)
            except sqlite3.Error as error:
                _fail(f"Cannot read the SQLite database {database.resolve()} ({error}).")
            click.echo(
                f"Opened a read-only snapshot of {database} ({_size(database)}, "
                f"{time.monotonic() - started:.1f} s); run this again to see newer rows.",
                err=True,
            )
        metadata = Path(folder) / "metadata.json"
        metadata.write_text(json.dumps(metadata_for(opened.stem)))
        command = [
            sys.executable, "-m", "datasette", "serve", "--immutable", str(opened),
            "--metadata", str(metadata), "--plugins-dir", str(PLUGINS_DIR),
            "--host", "127.0.0.1", "--port", str(port),
            *(["--open"] if open_browser else []), *datasette_args,
        ]  # fmt: skip
        if "--get" not in datasette_args:
            click.echo(
                f"Datasette on http://127.0.0.1:{port}/{opened.stem} (Ctrl-C stops it).", err=True
            )
        sys.exit(_run(command))


def datasette_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("datasette") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules["datasette"] is None
        return False


def metadata_for(database_name: str) -> dict[str, Any]:
    """bot/data/datasette.yml, its database renamed to `database_name` (the file's stem)."""
    import yaml  # PyYAML, which python-frontmatter needs too; loaded only here

    metadata: dict[str, Any] = yaml.safe_load(METADATA_FILE.read_text(encoding="utf-8"))
    databases = metadata["databases"]
    databases[database_name] = databases.pop(METADATA_DATABASE)
    return metadata


def _schema_is_current(database: Path) -> bool:
    """Every migration this Draftbot knows has been applied to the file (read-only)."""
    from bot.storage.schema import is_current

    reader = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        done = {version for (version,) in reader.execute("select version from schema_migrations")}
    except sqlite3.Error:
        return False  # no schema_migrations: made before versioned migrations
    finally:
        reader.close()
    return is_current(done)


def take_snapshot(source: Path, target: Path) -> None:
    """A consistent copy of `source` (read through a read-only connection, so rows in its
    write-ahead log are included and it is never written), without the drafts' text (every
    version's), the reasons people gave with a 👎, and the drafts' response_urls (which can
    post to the person for 30 minutes)."""
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        reader.backup(copy)
        copy.execute("pragma journal_mode = delete")  # one file, as -i expects
        copy.execute("pragma secure_delete = on")  # the blanked text is overwritten, not freed
        tables = {name for (name,) in copy.execute("select name from sqlite_master")}
        if "drafts" in tables:
            copy.execute("update drafts set request = null, text = null, response_url = null")
        if "draft_versions" in tables:  # every version's text, too
            copy.execute("update draft_versions set text = null")
        if "draft_events" in tables:  # a 👎's reason: the person's words, which may quote it
            copy.execute("update draft_events set reason = null")
        copy.commit()
    finally:
        copy.close()
        reader.close()


def _run(command: list[str]) -> int:
    """Run Datasette until it stops; SIGTERM and SIGINT (Ctrl-C) are passed on to it, so that
    it stops first and the snapshot is then removed."""
    import signal
    import subprocess

    process = subprocess.Popen(command)
    previous = signal.signal(signal.SIGTERM, lambda signum, _: process.send_signal(signum))
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _size(path: Path) -> str:
    size = float(path.stat().st_size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"


def _fail(message: str) -> NoReturn:
    click.echo(f"draftbot datasette: {message}", err=True)
    sys.exit(2)
