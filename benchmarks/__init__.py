"""Benchmarks: each module prints one JSON object and stores it under benchmarks/results/."""
