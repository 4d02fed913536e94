"""Switchboard's data layer: plain Python over PostgreSQL. It never imports textual."""
