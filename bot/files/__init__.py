"""Files people share, read for Claude: formats, limits (`bot.files.limits`) and refusals.

    read = read_files([SharedFile(name, data, mimetype, filetype), …])
    read.files     # ReadFile: a content block each, with its worst-case tokens
    read.refused   # FileRefused: the files that could not be read, each with its reason

Nothing here logs or keeps a file's bytes or text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot import wording
from bot.files import limits
from bot.files.reading import (
    FileRefused,
    ReadFile,
    SharedFile,
    display_name,
    file_format,
    read_file,
    too_large,
)

__all__ = [
    "FileRefused",
    "FilesRead",
    "ReadFile",
    "SharedFile",
    "display_name",
    "file_format",
    "read_file",
    "read_files",
    "too_large",
]


@dataclass(frozen=True)
class FilesRead:
    files: tuple[ReadFile, ...] = ()
    refused: tuple[FileRefused, ...] = field(default=())

    @property
    def notes(self) -> tuple[str, ...]:
        """What the preview says: files cut short, and files not read."""
        cut = tuple(file.note for file in self.files if file.note)
        return cut + ((self.refusal_text(),) if self.refused else ())

    def refusal_text(self) -> str:
        reasons = "\n".join(f"• {refusal.user_message}" for refusal in self.refused)
        sentence = wording.FILES_NOT_READ if self.files else wording.NO_FILE_READ
        return sentence.format(reasons=reasons)

    def require_some(self) -> None:
        """Raise when no file could be read: the request has nothing to draft from."""
        if not self.files and self.refused:
            if len(self.refused) == 1:
                raise self.refused[0]
            raise FileRefused(self.refusal_text(), name="")


def read_files(shared: Sequence[SharedFile], refused: Sequence[FileRefused] = ()) -> FilesRead:
    """Read each file; those that can't be read are listed with their reason. `refused`:
    files already turned away (too large to download, say), kept in the list in order."""
    read: list[ReadFile] = []
    problems = list(refused)
    skipped = shared[limits.MAX_FILES :]
    for file in shared[: limits.MAX_FILES]:
        try:
            candidate = read_file(file)
        except FileRefused as refusal:
            problems.append(refusal)
            continue
        total = sum(f.payload_bytes for f in read) + candidate.payload_bytes
        if total > limits.MAX_REQUEST_BYTES * 9 // 10:  # room for the prompt around them
            sentence = wording.FILES_TOO_LARGE_TOGETHER.format(
                size=limits.format_bytes(total),
                limit=limits.format_bytes(limits.MAX_REQUEST_BYTES),
            )
            problems.append(FileRefused(sentence, name=candidate.name))
            continue
        read.append(candidate)
    if skipped:
        names = ", ".join(display_name(file.name) for file in skipped)
        sentence = wording.TOO_MANY_FILES.format(limit=limits.MAX_FILES, names=names)
        problems.append(FileRefused(sentence, name=names))
    return FilesRead(tuple(read), tuple(problems))
