"""Features: what the models actually look at. MFCCs over time, other views of the same clip
(mel spectrogram, chroma, tempogram), and the exact block one model input holds."""
import streamlit as st

from genre_core.features.segments import segment_span
from genre_core.views import plots
from studio import sections, state

st.title("Features")
sections.feature_explainer()
clip = state.require_clip()
if clip is None:
    st.stop()
config = state.feature_config()
st.caption(f"Clip: **{state.md(state.clip_name())}** — {clip.loaded_seconds:.1f} s analysed, "
           f"{config.n_mfcc} MFCCs, hop {config.hop_length} samples at {config.sample_rate} Hz")

tab_mfcc, tab_mel, tab_chroma, tab_tempo, tab_block = st.tabs(
    ["MFCC", "Mel spectrogram (dB)", "Chroma (CQT)", "Tempogram", "Model input (one segment)"])
with tab_mfcc:
    sections.chart(plots.mfcc_heatmap(state.clip_feature("mfcc", clip), config.sample_rate,
                                       config.hop_length, title="MFCCs of the whole clip"),
                    width="stretch", key="features_mfcc")
    st.caption("Row 0 is loudness; higher rows describe ever finer detail of the spectrum's "
               "shape (timbre).")
with tab_mel:
    mel, freqs = state.clip_feature("mel", clip)
    sections.chart(plots.mel_heatmap(mel, config.sample_rate, config.hop_length, freqs,
                                      title="Mel spectrogram"),
                    width="stretch", key="features_mel")
with tab_chroma:
    sections.chart(plots.chroma_heatmap(state.clip_feature("chroma", clip),
                                         config.sample_rate, config.hop_length),
                    width="stretch", key="features_chroma")
with tab_tempo:
    tg, tempo = state.clip_feature("tempogram", clip)
    sections.chart(plots.tempogram_heatmap(tg, config.sample_rate, config.hop_length, tempo),
                    width="stretch", key="features_tempogram")
with tab_block:
    c1, c2 = st.columns([1, 2])
    mel_input = c1.radio("Input of", ["MLP, CNN, LSTM: 13 MFCCs", "CNN on mel spectrogram"],
                         key="features_input") == "CNN on mel spectrogram"
    if mel_input:
        blocks, band_hz = state.clip_feature("logmel_segments", clip)
    else:
        blocks, band_hz = state.clip_feature("segments", clip), None
    n = len(blocks)
    if n > 1:
        k = c2.slider("Segment", 1, n, 1, key="features_segment",
                      help="Each 3-s segment is one input to the segment models.") - 1
    else:
        k = 0
        st.caption("The clip has a single segment.")
    start, end = segment_span(k, config)
    what = "mel bands" if mel_input else "MFCCs"
    sections.chart(plots.segment_block_heatmap(
        blocks[k], config.sample_rate, config.hop_length, start, band_hz=band_hz,
        title=f"Segment {k + 1} of {n} ({start:g}–{end:g} s): "
              f"{blocks.shape[1]} frames × {blocks.shape[2]} {what}"),
        width="stretch", key="features_block")
    st.caption(f"This {blocks.shape[1]}×{blocks.shape[2]} block, standardised, is exactly "
               + ("what the CNN on mel spectrogram receives for one segment: the same network "
                  "as the CNN, fed 64 mel bands in dB below the segment's loudest bin "
                  "instead of 13 MFCCs." if mel_input else
                  "what the MLP, CNN and LSTM receive for one segment."))
