"""Model card, for a teacher first: what each model is, how it was tested (music it never
heard: GTZAN and real recordings), how often it is right, what "not sure" means; the
developer's figures (learning curves, every evaluation, the data, the parameters) folded away."""
import pandas as pd
import streamlit as st

from genre_core.report import as_report
from genre_core.views import plots
from studio import results, sections, state
from studio import summaries as sup

st.title("Model card")
bundle = state.bundle_meta()
if bundle is None:
    st.stop()
meta, report = bundle[0], as_report(bundle[1])
models = sup.report_models(meta, report)

st.subheader("The models, and how often they are right")
st.markdown("Every figure below comes from music the model **never heard**: each song was "
            "held out of training together with every other song by the same artist. Two "
            "tests: clips from **GTZAN**, the classic collection the models learned from, and "
            "**real recordings** of the kind people upload (commercial 30-second previews).")
plain = results.plain_rows(report, meta)
if plain:
    st.dataframe(pd.DataFrame(plain), hide_index=True, width="stretch")
else:
    st.info("This bundle's report holds no held-out figures.")
sentence = results.not_sure_sentence(report, meta)
if sentence:
    st.subheader("What \"not sure\" means")
    st.markdown(state.md(sentence))

calibration = sup.calibration_summary(report)
if calibration:
    st.subheader("Does its confidence mean what it says?")
    st.caption("Each dot is a group of held-out songs with about the same confidence: on the "
               "diagonal, an answer given with 80 % confidence is right 8 times in 10. One line "
               "per test: a dot below the diagonal is an answer surer than it should be.")
    sections.chart(plots.reliability_diagram(calibration["reliability_before"],
                                             calibration["reliability_after"],
                                             results.named_views(calibration["reliability_views"])),
                   width="stretch", key="card_reliability")

with st.expander("For developers: every evaluation, learning curves, data and parameters"):
    views = results.view_rows(report, meta)
    if views:
        st.markdown("**Per view** (track accuracy, balanced accuracy, macro F1)")
        st.dataframe(pd.DataFrame(views), hide_index=True, width="stretch")
    verdicts = results.verdict_rows(report)
    if verdicts:
        st.markdown("**The verdict per view**")
        st.dataframe(pd.DataFrame(verdicts), hide_index=True, width="stretch")
    acc = sup.accuracy_table(report)
    if acc:
        st.markdown("**Plain vs corrected accuracy (held-out)**")
        st.dataframe(pd.DataFrame(acc), hide_index=True, width="stretch")
        st.caption("*plain*: the original study's networks; *corrected*: dropout, L2 and early "
                   "stopping. Track accuracy = mean of the segments' probabilities per track.")
    if calibration:
        st.caption(f"Calibration: {calibration['n_tracks']} held-out tracks "
                   f"({calibration['split_description']}); ECE "
                   f"{calibration['ece_before']:.3f} before and {calibration['ece_after']:.3f} "
                   f"after calibration (temperature T = {calibration['temperature']:.2f}, then "
                   f"{calibration['floor']:.1%} of an even spread over the genres mixed in, so no "
                   f"answer reads over {calibration['max_answer']:.0%}); weights: "
                   + ", ".join(f"{sup.display_name(m)} {w:.2f}"
                               for m, w in calibration["weights"].items()) + ".")
    st.markdown("**Learning curves**")
    c1, c2 = st.columns([1, 3])
    model = c1.selectbox("Model", models, format_func=sup.display_name, key="card_model")
    sets = sup.learning_curve_sets(report, model)
    if sets:
        which = c2.selectbox("Fit", list(sets), key=f"card_fit_{model}")
        sections.chart(plots.learning_curves(sets[which],
                                             title=f"{sup.display_name(model)}: {which}"),
                       width="stretch", key="card_curves")
        info = report.models.get(model)
        if which == "final fit" and info is not None:
            st.caption(f"Trained on {info.trained_on or '?'} in "
                       f"{info.train_seconds or 0:.0f} s.")
    else:
        st.caption(f"No learning curves recorded for {sup.display_name(model)} (not a Keras "
                   "model, or trained without history).")
    st.markdown("**Data and splits**")
    st.json(sup.data_summary(report), expanded=False)
    st.dataframe(pd.DataFrame(sup.split_descriptions(report)), hide_index=True, width="stretch")
    st.markdown("**Feature configuration**")
    st.json(meta.get("feature_config", {}), expanded=False)
    st.markdown("**Training configuration**")
    st.json(report.train_config or {}, expanded=False)
    st.markdown("**Models in the bundle**")
    st.dataframe(pd.DataFrame([{"model": sup.display_name(n), "family": e.get("family"),
                                "variant": e.get("variant"), "feature": e.get("feature"),
                                "params": str(e.get("params", {}) or "")}
                               for n, e in meta.get("models", {}).items()]),
                 hide_index=True, width="stretch")
    if report.command:
        st.caption("Command:")
        st.code(report.command, language="bash")
