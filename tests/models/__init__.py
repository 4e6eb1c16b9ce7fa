"""Tests of genre_core.models: the model families and the musicnn ports."""
