"""Tests of the command line (genre_core.cli) run as a subprocess."""
