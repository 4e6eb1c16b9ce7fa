"""Plotly figures for the app (and notebooks): plain functions from arrays to go.Figure.

No Streamlit here, so every figure can be built and checked in a unit test. All figures share
one classroom style: fonts of at least 14 px so they stay readable on a projector, and a
default height of about 450 px so the main chart fits a 1280x800 screen without scrolling.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FONT_SIZE = 15
HEIGHT = 450
PITCH_CLASSES = ["C", "C♯", "D", "D♯", "E", "F", "F♯", "G", "G♯", "A", "A♯", "B"]
# one colour per model, the same on every page and chart (plotly's qualitative palette);
# Genre Studio's answer (the ensemble) in black, unlike any model
MODEL_COLOURS = {"ensemble": "#1A1A1A", "mlp": "#636EFA", "cnn": "#EF553B", "cnn_mel": "#00CC96",
                 "lstm": "#AB63FA", "features": "#FFA15A", "musicnn4": "#19D3F3",
                 "musicnn": "#FF6692", "musicnn_tags": "#B6E880"}
SPARE_COLOURS = ["#FF97FF", "#FECB52", "#8C564B", "#7F7F7F"]
# the fits of one model (final fit, each fold) on a learning-curve chart
FIT_COLOURS = list(MODEL_COLOURS.values())[1:]


def model_colour(name: str) -> str:
    """The model's colour on every chart (a model outside the table: a stable spare one)."""
    import zlib

    return MODEL_COLOURS.get(name) or SPARE_COLOURS[zlib.crc32(name.encode()) % len(SPARE_COLOURS)]


def style(fig: go.Figure, title: str | None = None, height: int = HEIGHT,
           xaxis: str | None = None, yaxis: str | None = None) -> go.Figure:
    """Big fonts and a fixed height: figures are shown to a room, not read at a desk."""
    fig.update_layout(
        title=dict(text=title, font=dict(size=FONT_SIZE + 3)) if title else None,
        height=height, font=dict(size=FONT_SIZE),
        margin=dict(l=70, r=30, t=60 if title else 30, b=60),
        legend=dict(font=dict(size=FONT_SIZE)),
    )
    fig.update_xaxes(title_font=dict(size=FONT_SIZE + 1), tickfont=dict(size=FONT_SIZE - 1))
    fig.update_yaxes(title_font=dict(size=FONT_SIZE + 1), tickfont=dict(size=FONT_SIZE - 1))
    if xaxis is not None:
        fig.update_xaxes(title_text=xaxis)
    if yaxis is not None:
        fig.update_yaxes(title_text=yaxis)
    return fig


def _legend_below_title(fig: go.Figure, title: str | None) -> go.Figure:
    """Room for a title and a horizontal legend above the plot without overlapping."""
    if title:
        fig.update_layout(margin=dict(t=100), title=dict(y=0.98, yanchor="top"))
    return fig


def _thin_columns(z: np.ndarray, times: np.ndarray, max_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Average neighbouring frames so a browser draws at most `max_columns` columns: a 30-s
    spectrogram has ~1300 frames, more than the pixels it gets, and costs megabytes of JSON."""
    n = z.shape[1]
    if max_columns <= 0 or n <= max_columns:
        return z, times
    step = int(np.ceil(n / max_columns))
    cut = (n // step) * step
    zz = z[:, :cut].reshape(z.shape[0], -1, step).mean(axis=2)
    tt = times[:cut].reshape(-1, step).mean(axis=1)
    if cut < n:   # keep the tail
        zz = np.concatenate([zz, z[:, cut:].mean(axis=1, keepdims=True)], axis=1)
        tt = np.concatenate([tt, [times[cut:].mean()]])
    return zz, tt


def frame_times(n_frames: int, sample_rate: int, hop_length: int) -> np.ndarray:
    """Seconds at which each STFT frame is centred (librosa's frames_to_time)."""
    return np.arange(n_frames) * hop_length / float(sample_rate)


def _heatmap(z, x, y, colorbar: str, title: str | None, xaxis: str, yaxis: str,
             colorscale: str = "Viridis", height: int = HEIGHT, zmin=None, zmax=None,
             hover: str | None = None) -> go.Figure:
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=y, colorscale=colorscale, zmin=zmin, zmax=zmax,
        colorbar=dict(title=dict(text=colorbar, side="right", font=dict(size=FONT_SIZE)),
                      tickfont=dict(size=FONT_SIZE - 1)),
        hovertemplate=hover or f"{xaxis}: %{{x}}<br>{yaxis}: %{{y}}<br>{colorbar}: %{{z:.2f}}"
                               "<extra></extra>"))
    return style(fig, title, height, xaxis, yaxis)


# ---------------------------------------------------------------- the clip itself

def waveform(samples: np.ndarray, sample_rate: int, segment_seconds: float = 3.0,
             max_points: int = 2000, title: str | None = "Waveform",
             height: int = 300) -> go.Figure:
    """The clip as a min/max envelope (a 30-s clip has 661,500 samples; a browser needs ~2000
    points) with dashed lines where each 3-s segment the models see starts."""
    y = np.asarray(samples, dtype=np.float32).ravel()
    n = len(y)
    buckets = max(1, min(max_points, n))
    size = int(np.ceil(n / buckets)) if n else 1
    pad = (-n) % size
    padded = np.pad(y, (0, pad), constant_values=np.nan) if n else np.zeros(1, np.float32)
    blocks = padded.reshape(-1, size)
    with np.errstate(all="ignore"):
        upper = np.nanmax(blocks, axis=1)
        lower = np.nanmin(blocks, axis=1)
    t = (np.arange(len(blocks)) * size + size / 2) / float(sample_rate)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t, y=upper, mode="lines", line=dict(width=1, color="#4C78A8"),
                             name="max", hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=t, y=lower, mode="lines", line=dict(width=1, color="#4C78A8"),
                             fill="tonexty", fillcolor="rgba(76,120,168,0.5)", name="min",
                             hoverinfo="skip", showlegend=False))
    duration = n / float(sample_rate)
    if segment_seconds > 0:
        count = int(duration // segment_seconds)
        # one layout update, not add_vline/add_annotation per line: plotly validates the whole
        # layout on each call (50 ms for a 30-s clip's 21 calls; py-spy on a warm upload)
        fig.update_layout(
            shapes=[dict(type="line", x0=k * segment_seconds, x1=k * segment_seconds,
                         y0=0, y1=1, yref="paper", xref="x",
                         line=dict(color="#E45756", width=1, dash="dash"))
                    for k in range(count + 1)],
            # label every segment so "segment 3" means something
            annotations=[dict(x=(k + 0.5) * segment_seconds, y=1.0, yref="paper",
                              text=str(k + 1), showarrow=False, yanchor="bottom",
                              font=dict(size=FONT_SIZE - 2, color="#E45756"))
                         for k in range(count)])
    fig.update_yaxes(range=[-1.05, 1.05])
    return style(fig, title, height, "time (s)", "amplitude")


def mfcc_heatmap(mfcc: np.ndarray, sample_rate: int, hop_length: int,
                 title: str | None = "MFCCs", max_columns: int = 800,
                 height: int = HEIGHT) -> go.Figure:
    """MFCCs (n_mfcc, frames) over time: the features the MLP/CNN/LSTM are built on."""
    mfcc = np.asarray(mfcc)
    z, t = _thin_columns(mfcc, frame_times(mfcc.shape[1], sample_rate, hop_length), max_columns)
    return _heatmap(z, np.round(t, 3), list(range(mfcc.shape[0])), "MFCC (dB-scaled)", title,
                    "time (s)", "MFCC coefficient", colorscale="RdBu_r")


def mel_heatmap(mel_db: np.ndarray, sample_rate: int, hop_length: int,
                frequencies: Sequence[float] | None = None, title: str | None = "Mel spectrogram",
                max_columns: int = 800, height: int = HEIGHT) -> go.Figure:
    """Mel spectrogram in dB (n_mels, frames); y is the band's centre frequency in Hz when
    `frequencies` is given, else the band index."""
    mel_db = np.asarray(mel_db)
    z, t = _thin_columns(mel_db, frame_times(mel_db.shape[1], sample_rate, hop_length), max_columns)
    if frequencies is not None:
        y = [int(round(f)) for f in frequencies]
        fig = _heatmap(z, np.round(t, 3), list(range(len(y))), "power (dB re. peak)", title,
                       "time (s)", "frequency (Hz)", colorscale="Magma", height=height)
        step = max(1, len(y) // 8)
        fig.update_yaxes(tickmode="array", tickvals=list(range(0, len(y), step)),
                         ticktext=[str(v) for v in y[::step]])
        fig.data[0].customdata = np.repeat(np.array(y)[:, None], z.shape[1], axis=1)
        fig.data[0].hovertemplate = ("time (s): %{x}<br>frequency: %{customdata} Hz<br>"
                                     "power: %{z:.1f} dB<extra></extra>")
        return fig
    return _heatmap(z, np.round(t, 3), list(range(mel_db.shape[0])), "power (dB re. peak)", title,
                    "time (s)", "mel band", colorscale="Magma", height=height)


def chroma_heatmap(chroma: np.ndarray, sample_rate: int, hop_length: int,
                   title: str | None = "Chroma (CQT)", max_columns: int = 800,
                   height: int = HEIGHT) -> go.Figure:
    """Energy per pitch class (12, frames): harmony and key, blind to octave and timbre."""
    chroma = np.asarray(chroma)
    z, t = _thin_columns(chroma, frame_times(chroma.shape[1], sample_rate, hop_length), max_columns)
    return _heatmap(z, np.round(t, 3), PITCH_CLASSES[: chroma.shape[0]], "relative energy (0–1)",
                    title, "time (s)", "pitch class", colorscale="Viridis", height=height,
                    zmin=0, zmax=1)


def tempogram_heatmap(tempogram: np.ndarray, sample_rate: int, hop_length: int,
                      tempo: float | None = None, bpm_range: tuple[float, float] = (30, 300),
                      title: str | None = "Tempogram", max_columns: int = 800,
                      height: int = HEIGHT) -> go.Figure:
    """Autocorrelation tempogram (lags, frames) shown as tempo in BPM (rows outside `bpm_range`
    dropped) with the estimated global tempo marked: rhythm, which MFCCs barely capture."""
    tg = np.asarray(tempogram)
    lags = np.arange(tg.shape[0])
    with np.errstate(divide="ignore"):
        bpm = 60.0 * sample_rate / (hop_length * lags.astype(float))
    keep = (bpm >= bpm_range[0]) & (bpm <= bpm_range[1])
    rows, bpm = tg[keep][::-1], bpm[keep][::-1]   # ascending BPM upwards
    z, t = _thin_columns(rows, frame_times(tg.shape[1], sample_rate, hop_length), max_columns)
    title_text = title
    if tempo is not None and title:
        title_text = f"{title} (estimated tempo {tempo:.0f} BPM)"
    fig = _heatmap(z, np.round(t, 3), np.round(bpm, 1), "autocorrelation", title_text,
                   "time (s)", "tempo (BPM)", colorscale="Viridis", height=height)
    fig.update_yaxes(type="log")
    if tempo is not None and bpm_range[0] <= tempo <= bpm_range[1]:
        fig.add_hline(y=tempo, line=dict(color="white", dash="dash", width=2))
    return fig


def segment_block_heatmap(block: np.ndarray, sample_rate: int, hop_length: int,
                          start: float = 0.0, title: str | None = None,
                          height: int = HEIGHT,
                          band_hz: Sequence[float] | None = None) -> go.Figure:
    """Exactly one model input: the (frames, n_mfcc) block of a 3-s segment, e.g. 130x13,
    drawn as coefficient rows over frame columns (time given both ways in the hover); with
    `band_hz` a (frames, n_mels) log-mel block (the mel CNN's), rows labelled in Hz."""
    block = np.asarray(block)
    frames = block.shape[0]
    z = block.T
    t = start + frame_times(frames, sample_rate, hop_length)
    if band_hz is None:
        title = title or f"Model input: {frames} frames × {block.shape[1]} coefficients"
        fig = _heatmap(z, list(range(frames)), list(range(block.shape[1])), "MFCC (dB-scaled)",
                       title, f"frame (hop {hop_length:d} samples)", "MFCC coefficient",
                       colorscale="RdBu_r", height=height)
        row = "coefficient %{y}"
    else:
        title = title or f"Model input: {frames} frames × {block.shape[1]} mel bands"
        hz = [int(round(float(f))) for f in band_hz]
        fig = _heatmap(z, list(range(frames)), list(range(block.shape[1])),
                       "dB below the segment's loudest bin", title,
                       f"frame (hop {hop_length:d} samples)", "mel band (Hz)",
                       colorscale="Magma", height=height)
        step = max(1, len(hz) // 8)
        fig.update_yaxes(tickmode="array", tickvals=list(range(0, len(hz), step)),
                         ticktext=[str(f) for f in hz[::step]])
        fig.data[0].customdata = np.stack(np.broadcast_arrays(
            np.round(t, 3)[None, :], np.asarray(hz, dtype=float)[:, None]), axis=-1)
        fig.data[0].hovertemplate = ("frame %{x} (t = %{customdata[0]} s)<br>band "
                                     "%{customdata[1]} Hz<br>%{z:.1f} dB<extra></extra>")
        return fig
    fig.data[0].customdata = np.repeat(np.round(t, 3)[None, :], block.shape[1], axis=0)
    fig.data[0].hovertemplate = ("frame %{x} (t = %{customdata} s)<br>" + row + "<br>"
                                 "value %{z:.2f}<extra></extra>")
    return fig


# ---------------------------------------------------------------- predictions

def segment_timeline(segment_probabilities: np.ndarray, starts: Sequence[float],
                     labels: Sequence[str], segment_seconds: float = 3.0,
                     title: str | None = None, height: int = 380) -> go.Figure:
    """Per-segment probabilities (units x genres) as a genres-by-time heatmap: shows whether
    a model is sure all along or changes its mind within the track."""
    p = np.asarray(segment_probabilities, dtype=float)
    if len(starts) == 1 and p.shape[0] == 1 and segment_seconds <= 0:
        x = ["whole clip"]
    else:
        x = [f"{s:g}–{s + segment_seconds:g} s" for s in starts]
    fig = _heatmap(p.T, x, list(labels), "probability", title, "segment", "genre",
                   colorscale="Blues", height=height, zmin=0, zmax=1,
                   hover="segment %{x}<br>%{y}: %{z:.0%}<extra></extra>")
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category", autorange="reversed")
    return fig


def probability_bars(probabilities: Mapping[str, Mapping[str, float]],
                     labels: Sequence[str] | None = None, title: str | None = None,
                     height: int = HEIGHT, display_names: Mapping[str, str] | None = None
                     ) -> go.Figure:
    """Track-level probabilities of every model side by side (one bar group per genre), so
    agreement and disagreement are visible at a glance."""
    names = list(probabilities)
    labels = list(labels) if labels is not None else list(next(iter(probabilities.values()), {}))
    fig = go.Figure()
    for name in names:
        shown = (display_names or {}).get(name, name)
        fig.add_trace(go.Bar(x=labels, y=[probabilities[name].get(g, 0.0) for g in labels],
                             name=shown, marker_color=model_colour(name),
                             hovertemplate=f"{shown}<br>%{{x}}: %{{y:.1%}}<extra></extra>"))
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=1.02, yanchor="bottom",
                                                   x=1, xanchor="right"))
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    return _legend_below_title(style(fig, title, height, "genre", "probability"), title)


def confusion_heatmap(matrix, labels: Sequence[str], normalise: bool = False,
                      title: str | None = None, height: int = 500,
                      clickable: bool = True) -> go.Figure:
    """Confusion matrix (rows true, columns predicted), counts or row-normalised (recall per
    true genre), each cell annotated. With `clickable`, an invisible marker sits on every
    cell: plotly heatmaps emit no selection events, scatter points do."""
    counts = np.asarray(matrix, dtype=float)
    labels = list(labels)
    if normalise:
        sums = counts.sum(axis=1, keepdims=True)
        z = np.divide(counts, sums, out=np.zeros_like(counts), where=sums > 0)
        text = [[f"{v:.0%}" if c else "" for v, c in zip(zr, cr)] for zr, cr in zip(z, counts)]
        colorbar, zmax = "share of true genre", 1.0
    else:
        z = counts
        text = [[f"{int(c)}" if c else "" for c in row] for row in counts]
        colorbar, zmax = "tracks", None
    fig = go.Figure(go.Heatmap(
        z=z, x=labels, y=labels, text=text, texttemplate="%{text}",
        textfont=dict(size=FONT_SIZE), colorscale="Blues", zmin=0, zmax=zmax,
        customdata=counts.astype(int),
        colorbar=dict(title=dict(text=colorbar, side="right"), tickfont=dict(size=FONT_SIZE - 1),
                      thickness=15),
        hovertemplate="true %{y}<br>predicted %{x}<br>%{customdata} (%{z:.2f})<extra></extra>"))
    if clickable:
        xs = [p for _ in labels for p in labels]
        ys = [t for t in labels for _ in labels]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", showlegend=False, name="cells",
            marker=dict(symbol="square", size=34, color="rgba(0,0,0,0)"),
            hovertemplate="true %{y}<br>predicted %{x}<br>click to list the tracks<extra></extra>"))
        fig.update_layout(clickmode="event+select", dragmode=False)
    fig.update_xaxes(type="category", side="bottom", tickangle=-35)
    fig.update_yaxes(type="category", autorange="reversed")
    fig = style(fig, title, height, "predicted genre", "true genre")
    fig.update_layout(margin=dict(l=20, r=10))
    return fig


def per_genre_bars(per_genre: Mapping[str, Mapping[str, float]], title: str | None = None,
                   height: int = HEIGHT) -> go.Figure:
    """Precision, recall and F1 per genre, grouped: which genres a model finds hard."""
    genres = list(per_genre)
    fig = go.Figure()
    for k, (key, name) in enumerate((("precision", "precision"), ("recall", "recall"),
                                     ("f1-score", "F1"))):
        fig.add_trace(go.Bar(x=genres, y=[per_genre[g].get(key, 0.0) for g in genres], name=name,
                             marker_color=["#4C78A8", "#F58518", "#54A24B"][k],
                             hovertemplate=f"%{{x}} {name}: %{{y:.2f}}<extra></extra>"))
    fig.update_yaxes(range=[0, 1])
    fig.update_xaxes(tickangle=-35)
    fig = style(fig, title, height, None, "score")    # the genre names say what x is
    # the legend at the figure's foot: above the plot, a narrow column (the confusion page's)
    # wrapped it under the chart's toolbar
    fig.update_layout(barmode="group", margin=dict(b=120),
                      legend=dict(orientation="h", yref="container", y=0, yanchor="bottom",
                                  x=0, xanchor="left"))
    return fig


def learning_curves(histories: Mapping[str, Mapping[str, Sequence[float]]],
                    title: str | None = None, height: int = HEIGHT) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch for one or more fits (e.g. the final fit and
    each cross-validation fold); training solid, validation dashed, one colour per fit. A
    validation loss turning upwards while training loss falls is overfitting."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"),
                        horizontal_spacing=0.1)
    for k, (name, hist) in enumerate(histories.items()):
        colour = FIT_COLOURS[k % len(FIT_COLOURS)]
        for col, metric in ((1, "loss"), (2, "accuracy")):
            for prefix, dash, part in (("", "solid", "train"), ("val_", "dash", "validation")):
                values = list(hist.get(prefix + metric, []) or [])
                if not values:
                    continue
                fig.add_trace(go.Scatter(
                    x=list(range(1, len(values) + 1)), y=values, mode="lines+markers"
                    if len(values) < 3 else "lines", name=f"{name} {part}",
                    line=dict(color=colour, dash=dash, width=2), legendgroup=name,
                    showlegend=col == 1,
                    hovertemplate=f"{name} {part}<br>epoch %{{x}}: %{{y:.3f}}<extra></extra>"),
                    row=1, col=col)
    longest = max([len(h.get("loss", []) or []) for h in histories.values()] or [1])
    fig.update_xaxes(title_text="epoch", tick0=1, dtick=max(1, int(np.ceil(longest / 10))))
    fig.update_yaxes(title_text="loss", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", row=1, col=2, range=[0, 1])
    fig.update_annotations(font=dict(size=FONT_SIZE + 1))
    return style(fig, title, height)


def tag_bars(tags: dict[str, float], top: int = 10, height: int = 420,
             title: str = "What a model trained on a million songs hears (musicnn tags)"
             ) -> go.Figure:
    """musicnn's strongest Million-Song-Dataset tags for a clip: a second opinion in words
    ("rock", "guitar", "male vocalists") from a network trained on a million songs."""
    items = list(sorted(tags.items(), key=lambda kv: -kv[1]))[:top][::-1]
    fig = go.Figure(go.Bar(x=[p for _, p in items], y=[t for t, _ in items], orientation="h",
                           marker_color="#4c78a8",
                           hovertemplate="%{y}: %{x:.0%}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=40),
                      title=title,
                      xaxis=dict(title="tag probability", tickformat=".0%", range=[0, 1]),
                      font=dict(size=15))
    return fig


def genre_counts(counts: Mapping[str, int], height: int = 260) -> go.Figure:
    """Tracks per genre of the connected dataset: a missing or thin genre shows at a glance."""
    fig = go.Figure(go.Bar(x=list(counts), y=list(counts.values()), marker_color="#4c78a8",
                           hovertemplate="%{x}: %{y} tracks<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=40), font=dict(size=15),
                      xaxis_title="genre", yaxis_title="tracks")
    return fig


def reliability_diagram(before: Sequence[Mapping], after: Sequence[Mapping],
                        views: Mapping[str, Sequence[Mapping]] | None = None,
                        height: int = 380) -> go.Figure:
    """Accuracy against confidence per bin, before and after calibration; the diagonal is
    perfect calibration. Marker size follows the number of tracks in a bin. With `views`
    ({view name: bins after calibration}) one line per view replaces the pooled "after", so
    that real recordings are not hidden behind the GTZAN clips that outnumber them."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                             line=dict(dash="dot", color="grey")))
    lines = [("all, before calibration", before)]
    lines += ([(f"{name}, after calibration", bins) for name, bins in views.items()] if views
              else [("after calibration", after)])
    colours = ["#b0b0b0", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]   # before: grey
    for (name, bins), colour in zip(lines, colours):
        if not bins:
            continue
        fig.add_trace(go.Scatter(
            x=[b["confidence"] for b in bins], y=[b["accuracy"] for b in bins],
            mode="lines+markers", name=name, line=dict(color=colour),
            marker=dict(size=[6 + 2 * np.sqrt(b["count"]) for b in bins]),
            customdata=[b["count"] for b in bins],
            hovertemplate="confidence %{x:.2f}<br>accuracy %{y:.2f}<br>%{customdata} tracks"))
    fig.update_xaxes(title="confidence (top probability)", range=[0, 1])
    fig.update_yaxes(title="accuracy", range=[0, 1.02])
    fig.update_layout(legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    title = "Reliability of the ensemble (held-out tracks)"
    return _legend_below_title(style(fig, title, height + 60), title)
