"""Draftbot's core: settings, prompts, drafting, the model client, storage and the CLI."""
