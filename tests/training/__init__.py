"""Tests of genre_core.training: splits, fitting, distillation, the pipeline, GTZAN runs."""
