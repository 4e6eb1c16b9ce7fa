"""Model card: how each model was trained and how well it does, from the bundle's report:
learning curves, plain vs corrected accuracies, the data and split, and every parameter."""
import pandas as pd
import streamlit as st

from genre_core.views import plots
from studio import results, sections, state
from studio import summaries as sup

st.title("Model card")
bundle = state.bundle_meta()
if bundle is None:
    st.stop()
meta, report = bundle
models = sup.report_models(meta, report)

st.subheader("Learning curves")
c1, c2 = st.columns([1, 3])
model = c1.selectbox("Model", models, format_func=sup.display_name, key="card_model")
sets = sup.learning_curve_sets(report, model)
if sets:
    which = c2.selectbox("Fit", list(sets), key=f"card_fit_{model}")
    sections.chart(plots.learning_curves(sets[which], title=f"{sup.display_name(model)}: {which}"),
                    width="stretch", key="card_curves")
    info = (report.get("models", {}) or {}).get(model, {})
    if which == "final fit" and info:
        st.caption(f"Trained on {info.get('trained_on', '?')} in "
                   f"{info.get('train_seconds', 0):.0f} s.")
else:
    st.info(f"No learning curves recorded for {sup.display_name(model)} (not a Keras model, or "
            "trained without history).")

st.subheader("Plain vs corrected accuracy (held-out)")
acc = sup.accuracy_table(report)
if acc:
    st.dataframe(pd.DataFrame(acc), hide_index=True, width="stretch")
    st.caption("*plain*: the original study's networks; *corrected*: dropout, L2 and early "
               "stopping. Track accuracy = mean of the segments' probabilities per track.")
else:
    st.info("The report holds no evaluations.")

views = results.view_rows(report, meta)
if views:
    st.subheader("On GTZAN and on real recordings")
    st.caption("Two views of the same held-out predictions: GTZAN clips and real commercial "
               "recordings, each by artists the model never heard in training.")
    st.dataframe(pd.DataFrame(views), hide_index=True, width="stretch")
verdicts = results.verdict_rows(report)
if verdicts:
    st.markdown("**What Genre Studio's answer means.** It names one genre only when its "
                "calibrated confidence is high enough; otherwise it says \"not sure: A or B\".")
    st.dataframe(pd.DataFrame(verdicts), hide_index=True, width="stretch")

calibration = sup.calibration_summary(report)
if calibration:
    st.subheader("Calibration of the ensemble")
    st.caption(f"Measured on {calibration['n_tracks']} held-out tracks "
               f"({calibration['split_description']}). Expected calibration error "
               f"{calibration['ece_before']:.3f} before and {calibration['ece_after']:.3f} after "
               f"temperature scaling (T = {calibration['temperature']:.2f}); weights: "
               + ", ".join(f"{sup.display_name(m)} {w:.2f}"
                           for m, w in calibration["weights"].items()) + ".")
    sections.chart(plots.reliability_diagram(calibration["reliability_before"],
                                              calibration["reliability_after"]),
                    width="stretch", key="card_reliability")

left, right = st.columns(2, gap="large")
with left:
    st.subheader("Data and splits")
    st.json(sup.data_summary(report), expanded=True)
    st.dataframe(pd.DataFrame(sup.split_descriptions(report)), hide_index=True, width="stretch")
with right:
    st.subheader("Parameters")
    st.markdown("**Feature configuration**")
    st.json(meta.get("feature_config", {}), expanded=False)
    st.markdown("**Training configuration**")
    st.json(report.get("train_config", {}), expanded=False)
    st.markdown("**Models in the bundle**")
    st.dataframe(pd.DataFrame([{"model": sup.display_name(n), "family": e.get("family"),
                                "variant": e.get("variant"), "feature": e.get("feature"),
                                "params": str(e.get("params", {}) or "")}
                               for n, e in meta.get("models", {}).items()]),
                 hide_index=True, width="stretch")
    if report.get("command"):
        st.caption("Command:")
        st.code(str(report["command"]), language="bash")
