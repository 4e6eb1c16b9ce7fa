"""A class at once, server side: four headless sessions (Streamlit's own websocket protocol,
the messages its browser frontend sends, no rendering) on one fresh server, each uploading a
different clip at the same moment through the file uploader; every session gets its own
clip's verdict (the one a Predictor gives for the same bytes). The benchmark runs the same with
30 sessions (`python -m genre_core bench`, section `class_headless`); no timing is asserted."""
from __future__ import annotations

import pytest

from tests.helpers.bundles import _bundle_is_usable
from tests.helpers.paths import DATA_ROOT, SHIPPED_BUNDLE

pytestmark = pytest.mark.slow


def test_four_headless_sessions_at_once_each_get_their_own_verdict(tmp_path):
    if not _bundle_is_usable(SHIPPED_BUNDLE):
        pytest.skip("the shipped bundle (with its ensemble) is not usable here")
    from bench.class_headless import run_class_headless
    from bench.classroom import class_clips

    data = DATA_ROOT if (DATA_ROOT / "Data" / "genres_original").is_dir() else None
    clips = class_clips(data, 4, tmp_path)
    out = run_class_headless(SHIPPED_BUNDLE, clips, timeout_s=300)
    assert out["answered"] == out["correct"] == 4, out
    assert "errors" not in out, out["errors"]
    assert out["server_peak_rss_mib"] > 0
