"""Tests of the scripts in tools/ and studies/."""
