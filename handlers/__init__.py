"""Everything that knows Slack: the Bolt app, listeners, use cases, replies and Block Kit.

See docs/architecture.md for which module owns what.
"""
