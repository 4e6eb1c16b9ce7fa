"""A class at once, as CI can afford it: four real browser sessions on one fresh server, each
uploading a different clip at the same moment; every session shows its own clip's verdict (the
one a Predictor gives for the same bytes) and no exception. The benchmark runs the same with
30 sessions and holds the time and memory targets (`python -m genre_core bench`, section
`class`); no timing is asserted here."""
from __future__ import annotations

import pytest

from tests.app.browser_helpers import CHROMIUM, _skip_or_fail
from tests.helpers.bundles import _bundle_is_usable
from tests.helpers.paths import DATA_ROOT, SHIPPED_BUNDLE

pytestmark = pytest.mark.slow


def test_four_sessions_at_once_each_see_their_own_verdict(tmp_path):
    if not CHROMIUM.exists():
        _skip_or_fail(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _skip_or_fail("the playwright Python package is not installed")
    if not _bundle_is_usable(SHIPPED_BUNDLE):
        pytest.skip("the shipped bundle (with its ensemble) is not usable here")
    from bench.classroom import class_clips, run_class

    bundle = SHIPPED_BUNDLE
    data = DATA_ROOT if (DATA_ROOT / "Data" / "genres_original").is_dir() else None
    clips = class_clips(data, 4, tmp_path)
    assert len({c.name for c in clips}) == 4
    out = run_class(bundle, clips, timeout_s=300)
    assert "skipped" not in out, out
    assert out["answered"] == out["correct"] == 4, out
    assert "errors" not in out, out["errors"]
    assert out["server_peak_rss_mib"] > 0
