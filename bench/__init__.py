"""Benchmark harness for Linli (see bench/README.md). Not part of the shipped app."""
