"""Tests of genre_core.views (figures, saliency, teaching) and the app's view helpers."""
