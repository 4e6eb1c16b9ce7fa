"""Home: what the app does, which models are loaded (with held-out accuracy and the split it
was measured on), and whether a dataset is connected."""
import streamlit as st

import ui_state
from genre_core import app_support as sup
from genre_core import plots

st.title("Genre Studio")
st.markdown(sup.APP_INTRO)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Models loaded")
    bundle = ui_state.bundle_meta()
    if bundle is not None:
        meta, report = bundle
        rows = sup.home_summary(meta, report)
        st.dataframe(
            [{k: r[k] for k in ("model", "variant", "track accuracy", "macro F1", "measured on")}
             for r in rows],
            hide_index=True, width="stretch",
            column_config={"track accuracy": st.column_config.ProgressColumn(
                "track accuracy", format="percent", min_value=0.0, max_value=1.0),
                "macro F1": st.column_config.NumberColumn("macro F1", format="%.3f")})
        for r in rows:
            if r["split description"]:
                st.caption(f"**{r['model']}** — {r['split']} split: {r['split description']}")
        st.caption(f"Bundle: {ui_state.md(ui_state.bundle_label())}")

with right:
    st.subheader("Dataset")
    if not ui_state.data_path():
        st.info("No dataset connected. " + ui_state.CONNECT_HINT + " Uploads and recordings "
                "work without it.")
    else:
        ds = ui_state.dataset(show_error=True)
        if ds is not None:
            summary = sup.dataset_summary(ds)
            st.metric("tracks connected", summary["n_tracks"])
            st.caption(f"{ui_state.md(ui_state.dataset_label())} — {len(summary['genres'])} genres"
                       + (f", {summary['skipped']} unreadable file(s) skipped"
                          if summary["skipped"] else ""))
            st.plotly_chart(plots.genre_counts(summary["genres"]), width="stretch",
                            key="home_genre_counts")
    st.page_link("pages/listen.py", label="Start: choose a clip on the Listen page", icon="🎧")
