"""Benchmarks for the targets of DESIGN §7; each writes JSON to bench/results/."""
