"""Compare models: every model's answer for the chosen clip, side by side, segment by
segment, and whether they agree."""
import streamlit as st

from genre_core.views import plots
from studio import sections, state
from studio import summaries as sup

st.title("Compare models")
clip = state.require_clip()
if clip is None:
    st.stop()
prediction = sections.prediction_filling_in(clip)
if prediction is None:
    st.stop()

verdict = sup.headline(prediction)   # computed after the domain judgement
if verdict:
    st.header(verdict)
st.subheader(sup.agreement_line(prediction))
with st.expander("Each model's answer"):
    st.markdown(state.md(sup.agreement_sentence(prediction)))
    st.caption(f"Clip: {state.md(state.clip_name())} — "
               + ", ".join(f"{sup.display_name(n)}: {mp.genre} ({mp.probabilities[mp.genre]:.0%})"
                           for n, mp in prediction.models.items()))
for w in clip.warnings:
    st.warning(w)
sections.ood_notice(prediction)
sections.timeline(state.chosen(), prediction, key="compare_timeline")

names = list(prediction.models)
sections.chart(plots.probability_bars(
    {n: mp.probabilities for n, mp in prediction.models.items()}, prediction.labels,
    title="Track-level probabilities (mean over segments)",
    display_names={n: sup.display_name(n) for n in names}),
    width="stretch", key="compare_bars")

config = state.feature_config()
columns = st.columns(min(len(names), 3))
for i, name in enumerate(names):
    mp = prediction.models[name]
    with columns[i % len(columns)]:
        st.markdown(f"#### {sup.display_name(name)}: **{state.md(mp.genre)}**")
        st.dataframe(sup.top_k_rows(mp, 3), hide_index=True, width="stretch",
                     column_config={"probability": st.column_config.ProgressColumn(
                         "probability", format="percent", min_value=0.0, max_value=1.0)})
        whole = mp.whole_clip
        sections.chart(plots.segment_timeline(
            mp.segment_probabilities, mp.segment_starts, prediction.labels,
            0 if whole else config.segment_seconds,
            title="whole clip" if whole else "per segment", height=420),
            width="stretch", key=f"compare_timeline_{name}")
if prediction.tag_sets:
    st.subheader("What models trained on other music hear")
    st.caption("Tags of the pretrained musicnn networks: they never learned GTZAN's genres, "
               "only the words listeners used for a million songs (Million Song Dataset) or "
               "for 25,000 clips (MagnaTagATune).")
    tag_columns = st.columns(len(prediction.tag_sets))
    for column, (vocabulary, tags) in zip(tag_columns, prediction.tag_sets.items()):
        sections.chart(plots.tag_bars(tags, title=f"{vocabulary} tags"), width="stretch",
                            key=f"compare_tags_{vocabulary}", where=column)
sections.predictions_download(prediction, key="compare_csv")
st.caption("Timing: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in prediction.timings.items()))
