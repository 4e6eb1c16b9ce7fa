"""Genre Studio: Streamlit router. Run with `streamlit run app.py`.

Only the page list and the shared sidebar live here; each page is a file in pages/ and the
cached loaders are in ui_state.py. Environment: GENRE_DATA (dataset folder shown in the
sidebar), GENRE_BUNDLE (model bundle folder; default assets/models/default)."""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import streamlit as st  # noqa: E402

import ui_state  # noqa: E402

st.set_page_config(layout="wide", page_title="Genre Studio", page_icon=":material/music_note:")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/listen.py", title="Listen", icon=":material/headphones:"),
    st.Page("pages/features.py", title="Features", icon=":material/equalizer:"),
    st.Page("pages/compare.py", title="Compare models", icon=":material/compare_arrows:"),
    st.Page("pages/confusion.py", title="Confusion matrix", icon=":material/grid_on:"),
    st.Page("pages/misclassified.py", title="Misclassified", icon=":material/help:"),
    st.Page("pages/model_card.py", title="Model card", icon=":material/description:"),
]

# less empty space above the title, so the main chart fits a 1280x800 projector screen
st.markdown("<style>[data-testid='stMainBlockContainer'], .block-container "
            "{padding-top: 2.5rem;}</style>", unsafe_allow_html=True)
page = st.navigation(PAGES)
ui_state.sidebar()
try:
    page.run()
    # after the page is drawn, so the imports do not delay the first render
    ui_state.warm_up()
except Exception as e:  # noqa: BLE001 - last resort: a message, never a traceback
    from genre_core.errors import GenreError

    if os.environ.get("GENRE_STUDIO_DEBUG") == "1":   # tests want the real exception
        raise

    if isinstance(e, GenreError):
        st.error(str(e))
    else:
        st.error(f"Something went wrong on this page ({type(e).__name__}: {e}). "
                 "The other pages still work.")
