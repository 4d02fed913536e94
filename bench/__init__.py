"""Switchboard benchmarks (BENCHMARKS.md): `python -m bench --scale 1.0`."""
