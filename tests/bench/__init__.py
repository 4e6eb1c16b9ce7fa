"""Tests of the benchmark's helpers (bench/)."""
