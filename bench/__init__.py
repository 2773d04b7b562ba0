"""Benchmarks (a package so that bench/engine.py is bench.engine, not a shadow of the engine package)."""
