"""The two kinds of error Draftbot raises on purpose; anything else is a bug.

    Exception
     ├── UserFacingError      the request cannot go ahead; `user_message` is safe to show a
     │    │                   person, `reference` (optional) is for their admin
     │    ├── bot.drafting.DraftFailed            no draft (model trouble, over budget)
     │    ├── bot.sessions.DraftUnavailable       a button on a draft that cannot act now
     │    ├── bot.files.FileRefused               a shared file Draftbot can't read
     │    └── handlers.conversations.CannotReadConversation   a thread Draftbot can't read
     └── SetupError           Draftbot cannot start; the message says what to fix, and the
          │                   CLI prints it as one line and exits 2
          ├── bot.config.ConfigError
          ├── bot.prompts.PromptError
          ├── bot.pricing.PriceFileError
          └── bot.storage.StorageUnavailable

Database failures at run time (`sqlite3.Error`, `bot.storage.StorageError` and its
`ConnectionLost`/`StorageTimeout`, `bot.storage.offloop.DatabaseUnavailable`) are neither:
a usage row is kept in the journal, and a person is told the database is busy.

Handlers turn a `UserFacingError` into its message; every other exception becomes a logged
line and the plain "something went wrong" sentence (`handlers.replies.failure_message`).
"""

from __future__ import annotations


class UserFacingError(Exception):
    def __init__(self, user_message: str, *, reference: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.reference = reference


class SetupError(Exception):
    """Raised while starting; str(error) says what is wrong and how to fix it."""
