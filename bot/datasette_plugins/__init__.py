"""Datasette plugins that `draftbot datasette` loads (`--plugins-dir` is this folder).

Datasette imports every file here by itself, inside its own process; Draftbot never imports
them, so Datasette stays an optional extra.
"""
