"""Tests of genre_core.inference: decoding, features, datasets, bundles, prediction, serving."""
