"""Home: what the app does, which models are loaded (with held-out accuracy and the split it
was measured on), and whether a dataset is connected."""
import streamlit as st

from genre_core.views import plots
from studio import lesson, sections, state
from studio import summaries as sup

st.title("Genre Studio")
st.markdown(sup.APP_INTRO)

st.subheader("The lesson, one click per step")
lesson.step_links()

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Models loaded")
    bundle = state.bundle_meta()
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
        st.caption(f"Bundle: {state.md(state.bundle_label())}")

with right:
    st.subheader("Dataset")
    if not state.data_path():
        st.info(state.connect_hint() + " Uploads and recordings work without it.")
    else:
        ds = state.dataset(show_error=True)
        if ds is not None:
            summary = sup.dataset_summary(ds)
            st.metric("tracks connected", summary["n_tracks"])
            st.caption(f"{state.md(state.dataset_label())} — {len(summary['genres'])} genres"
                       + (f", {summary['skipped']} unreadable file(s) skipped"
                          if summary["skipped"] else ""))
            sections.chart(plots.genre_counts(summary["genres"]), width="stretch",
                            key="home_genre_counts")
