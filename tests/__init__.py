"""Genre Studio's tests, a package laid out like the code (inference/, models/, training/,
views/, cli/, app/, bench/, tools/); shared helpers in tests/helpers, shared fixtures in the
conftest.py files. Run from the repository root: `python -m pytest -q`."""
