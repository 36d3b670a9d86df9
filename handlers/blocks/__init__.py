"""Block Kit builders: pure functions from Draftbot's values to Slack payloads."""
