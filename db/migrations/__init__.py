"""Numbered SQL migrations; `db.migrate` applies them in order."""
