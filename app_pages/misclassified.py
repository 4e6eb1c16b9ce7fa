"""Misclassified: the held-out tracks the models got wrong, who made them and what the models
thought instead; choose one to hear it and see why."""
import streamlit as st

from genre_core.features.segments import unit_starts
from genre_core.report import as_report
from genre_core.views import plots
from studio import sections, state
from studio import summaries as sup

st.title("Misclassified tracks")
bundle = state.bundle_meta()
if bundle is None:
    st.stop()
meta, report = bundle[0], as_report(bundle[1])
labels = sup.bundle_labels(meta, report)
models = sup.evaluated_models(meta, report)
if not models:
    st.warning("This bundle's report holds no evaluations, so there are no held-out "
               "predictions to inspect.")
    st.stop()

splits = report.splits()
f1, f2, f3 = st.columns([1, 2, 2])
if st.session_state.get("mis_split") not in splits:    # the split Genre Studio is measured on
    best = report.preferred_evaluation(sup.answer_model(report, models) or models[0],
                                       variant=None)
    st.session_state["mis_split"] = splits[0] if best is None else best.split
split = f1.selectbox("Split", splits, key="mis_split")
true_filter = f2.multiselect("True genre", labels, key="mis_true", placeholder="any")
pred_filter = f3.multiselect("Predicted genre (by any model)", labels, key="mis_pred",
                             placeholder="any")
index = state.track_index()
table = sup.misclassified_table(report, index, split=split, models=models)
shown = sup.filter_misclassified(table, true_filter, pred_filter)
st.caption(sup.misclassified_summary(report, table, split, len(shown)))
event = st.dataframe(shown, hide_index=True, width="stretch", height=300,
                     on_select="rerun", selection_mode="single-row", key="mis_table")
if shown.empty:
    st.info("No misclassified track matches these filters in this split"
            + ("" if split != "artist" else " (the artist split scores only the genres with "
               "two or more artists)") + ".")
    st.stop()

ids = list(shown["track"])
rows = (event or {}).get("selection", {}).get("rows", []) if event else []
if rows and rows[0] < len(ids) and ids[rows[0]] != st.session_state.get("mis_clicked"):
    st.session_state["mis_clicked"] = ids[rows[0]]
    st.session_state["mis_track"] = ids[rows[0]]
if st.session_state.get("mis_track") not in ids:      # one the connected dataset can play
    connected = state.dataset()
    st.session_state["mis_track"] = next(
        (t for t in ids if sup.find_track_by_id(connected, t) is not None), ids[0])
track_id = st.selectbox("Track", ids, key="mis_track",
                        format_func=lambda t: sup.describe_track(t, index))

entries = sup.track_entries(report, track_id, split)
st.subheader(state.md(sup.describe_track(track_id, index)))
st.markdown("True genre **{}**. {}".format(
    state.md(next(iter(entries.values()))["genre"] if entries else "?"),
    state.md(sup.agreement_sentence({m: e["predicted"] for m, e in entries.items()}))))

left, right = st.columns(2, gap="medium")
with left:
    sections.chart(plots.probability_bars({m: e["probabilities"] for m, e in entries.items()},
                                           labels, title="Held-out probabilities", height=400,
                                           display_names={m: sup.display_name(m) for m in entries}),
                    width="stretch", key="mis_bars")
with right:
    which = st.selectbox("Segment votes of", list(entries), format_func=sup.display_name,
                         key="mis_votes_model") if entries else None
    if which:
        votes = sup.segment_votes(entries[which], labels)
        config = state.feature_config()
        starts = unit_starts(len(votes), config)
        sections.chart(plots.segment_timeline(votes, starts, labels, config.segment_seconds,
                                               title="Held-out vote of each segment", height=340),
                        width="stretch", key="mis_votes")

st.subheader("Listen and look")
ds = state.dataset(show_error=True)
track = sup.find_track_by_id(ds, track_id)
if ds is None:
    st.info(state.connect_hint())
elif track is None:
    st.warning(f"{state.md(track_id)} is not in the connected dataset.")
else:
    data = state.track_bytes(track)
    if data:
        st.audio(data, format=sup.audio_mime(track.filename))
    analysis = state.analyse_track(track)
    if analysis is not None:
        clip, mfcc, prediction = analysis
        config = state.feature_config()
        a, b = st.columns(2, gap="medium")
        sections.chart(plots.mfcc_heatmap(mfcc, config.sample_rate, config.hop_length,
                                          title="MFCCs", height=400),
                       width="stretch", key="mis_mfcc", where=a)
        name = b.selectbox("Per-segment probabilities of", list(prediction.models),
                           format_func=sup.display_name, key="mis_live_model")
        mp = prediction.models[name]
        sections.chart(plots.segment_timeline(mp.segment_probabilities, mp.segment_starts,
                                              prediction.labels,
                                              0 if mp.whole_clip else config.segment_seconds,
                                              title="Shipped model, per segment",
                                              height=340),
                       width="stretch", key="mis_live", where=b)
        st.caption("The shipped models were trained on all tracks, this one included, so their "
                   "live answer here is usually right; the table above shows held-out answers.")
        st.subheader("What the model listened to")
        sections.saliency_section(clip, f"track:{track.id}", key="mis_sal")
