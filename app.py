"""Genre Studio: Streamlit router. Run with `streamlit run app.py`.

Only the page list and the shared sidebar live here; each page is a file in app_pages/ (layout
only) and the app's logic lives in studio/ (cached loaders: studio/state.py). The operator
sets what the app may read when starting it (GENRE_DATA, GENRE_BUNDLE, GENRE_BUNDLES,
GENRE_LOCAL_MODE; see genre_core/inference/deploy.py and the README's "Deploying safely").
No icon or font is fetched from another host: page icons are emoji, not Material symbols
(whose favicon Streamlit loads from a CDN)."""
import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import streamlit as st  # noqa: E402 - after the TF log level

from studio import lesson, sections, state  # noqa: E402

st.set_page_config(layout="wide", page_title="Genre Studio", page_icon="🎵")

PAGES = [
    st.Page("app_pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("app_pages/listen.py", title="Listen", icon="🎧"),
    st.Page("app_pages/features.py", title="Features", icon="🎚️"),
    st.Page("app_pages/compare.py", title="Compare models", icon="⚖️"),
    st.Page("app_pages/confusion.py", title="Confusion matrix", icon="🔢"),
    st.Page("app_pages/misclassified.py", title="Misclassified", icon="❓"),
    st.Page("app_pages/model_card.py", title="Model card", icon="📄"),
    st.Page("app_pages/map.py", title="Map of music", icon="🗺️"),
    st.Page("app_pages/saliency.py", title="What the model heard", icon="👂"),
    st.Page("app_pages/batch.py", title="Batch", icon="📚"),
]

# less empty space above the title, so the main chart fits a 1280x800 projector screen
st.markdown("<style>[data-testid='stMainBlockContainer'], .block-container "
            "{padding-top: 2.5rem;}</style>", unsafe_allow_html=True)
page = st.navigation(PAGES)
sections.url_restore()   # first run of a session: what a bookmarked URL names
state.sidebar()
sections.sidebar_extras()
try:
    page.run()
    # after the page is drawn, so the imports do not delay the first render
    state.warm_up()
    state.prefetch_prediction()    # the chosen clip's answer, under way before Compare asks
except Exception as e:  # noqa: BLE001 - last resort: a message, never a traceback
    from genre_core.errors import GenreError

    if os.environ.get("GENRE_STUDIO_DEBUG") == "1":   # tests want the real exception
        raise

    if isinstance(e, GenreError):
        st.error(state.md(e))
    else:
        # the visitor gets one line; the operator's log gets the traceback
        logging.getLogger("genre_studio").exception("page %s failed", page.url_path)
        st.error(f"Something went wrong on this page ({type(e).__name__}: {state.md(e)}). "
                 "The other pages still work.")
finally:
    lesson.footer(page.url_path)   # one click on to the lesson's next step, even after st.stop()
    sections.url_write(page)   # even after st.stop(): the address shows what is on screen
