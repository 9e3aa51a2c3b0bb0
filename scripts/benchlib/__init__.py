"""scripts/bench: the stress benchmark (see docs/bench.md)."""
