"""`draftbot draft --file PATH`: files from disk read as Slack's would be (`bot.files`)."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path

import click

from bot.files import (
    FileRefused,
    FilesRead,
    SharedFile,
    display_name,
    file_format,
    limits,
    read_files,
    too_large,
)


def read_paths(paths: Sequence[str]) -> FilesRead:
    """Read each file, size-checked before its bytes are loaded; say on standard error what
    could not be read (and exit 1 when nothing could)."""
    shared: list[SharedFile] = []
    refused: list[FileRefused] = []
    for raw in paths:
        path = Path(raw)
        name = display_name(path.name)
        size = path.stat().st_size
        kind = file_format(SharedFile(name=path.name, data=b""))
        cap = limits.MAX_IMAGE_BYTES * 3 // 4 if kind == "image" else limits.MAX_FILE_BYTES
        if size > cap:
            refused.append(too_large(name, size, kind))
            continue
        mimetype, _ = mimetypes.guess_type(path.name)
        shared.append(SharedFile(name=path.name, data=path.read_bytes(), mimetype=mimetype))
    read = read_files(shared, refused)
    for note in read.notes:
        click.echo(note, err=True)
    if not read.files:
        raise SystemExit(1)
    return read
