"""Confusion matrix: which genres each model mixes up on held-out tracks, from the bundle's
report; click a cell to list its tracks."""
import pandas as pd
import streamlit as st

from genre_core.report import as_report
from genre_core.views import plots
from studio import sections, state
from studio import summaries as sup

st.title("Confusion matrix")
bundle = state.bundle_meta()
if bundle is None:
    st.stop()
meta, report = bundle[0], as_report(bundle[1])
models = sup.evaluated_models(meta, report)
if not models:
    st.warning("This bundle's report holds no evaluations (it was trained without "
               "cross-validation).")
    st.stop()
labels = sup.bundle_labels(meta, report)

c1, c2, c3, c4 = st.columns([2, 3, 2, 2])
if st.session_state.get("cm_model") not in models:     # opens on Genre Studio's answer
    st.session_state["cm_model"] = sup.answer_model(report, models)
model = c1.selectbox("Model", models, format_func=sup.display_name, key="cm_model")
evs = report.evaluations_for(model)
best = report.preferred_evaluation(model)
ev_index = c2.selectbox("Evaluation (split · variant)", range(len(evs)),
                        index=next((i for i, e in enumerate(evs) if e is best), 0),
                        format_func=lambda i: evs[i].label, key="cm_eval")
ev = evs[ev_index]
level = c3.radio("Level", ["track", "segment"], horizontal=True, key="cm_level")
normalise = c4.toggle("Row-normalised", value=False, key="cm_norm")
st.caption(f"{ev.split_description or ''} — track accuracy {ev.track_accuracy:.1%}, "
           f"segment accuracy {ev.segment_accuracy:.1%}, macro F1 {ev.macro_f1:.3f}")

left, right = st.columns([3, 2], gap="small")
with left:
    fig = plots.confusion_heatmap(sup.confusion_for(ev, level), labels, normalise,
                                  clickable=level == "track")
    if level == "track":
        event = sections.chart(fig, width="stretch", key=f"cm_chart_{model}_{ev_index}",
                                on_select="rerun", selection_mode="points")
        points = (event or {}).get("selection", {}).get("points", []) if event else []
        clicked = (points[0].get("y"), points[0].get("x")) if points else None
        if clicked and clicked != st.session_state.get("cm_clicked"):
            st.session_state["cm_clicked"] = clicked   # apply a click once, then let the
            st.session_state["cm_true"], st.session_state["cm_pred"] = clicked  # boxes rule
    else:
        sections.chart(fig, width="stretch", key="cm_chart_segments")
with right:
    st.markdown("**Per genre (track level)**")
    sections.chart(plots.per_genre_bars(ev.per_genre or {}, height=360),
                    width="stretch", key="cm_per_genre")
    st.dataframe(pd.DataFrame(sup.per_genre_rows(ev)), hide_index=True, width="stretch",
                 height=250)

if level == "track":
    st.subheader("Tracks in a cell")
    st.caption("Click a cell of the matrix, or choose the cell here.")
    evaluated = ev.evaluated_genres or labels
    if st.session_state.get("cm_true") not in evaluated:
        st.session_state["cm_true"] = evaluated[0]
    if st.session_state.get("cm_pred") not in labels:
        st.session_state["cm_pred"] = labels[0]
    d1, d2 = st.columns(2)
    true = d1.selectbox("True genre", evaluated, key="cm_true")
    pred = d2.selectbox("Predicted genre", labels, key="cm_pred")
    rows = sup.cell_rows(ev.tracks_in_cell(true, pred), state.track_index())
    st.markdown(f"**{len(rows)}** {state.md(true)} track(s) predicted as "
                f"**{state.md(pred)}**")
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        sections.play_tracks([r["track"] for r in rows], key="cm_play")
