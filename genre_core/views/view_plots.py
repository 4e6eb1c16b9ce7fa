"""Plotly figures for the newer views: the map of music and saliency over a segment's model
input, and the genre colours they share with the app's timeline. Plain functions returning
go.Figure (no Streamlit), in plots.py's classroom style."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from genre_core.views.plots import FONT_SIZE, style

# one colour per GTZAN genre, the same in the timeline, the map and the saliency captions
# (Tableau 10, readable on a projector)
GENRE_COLOURS = {
    "blues": "#4E79A7", "classical": "#B07AA1", "country": "#F28E2B", "disco": "#FF9DA7",
    "hiphop": "#9C755F", "jazz": "#59A14F", "metal": "#E15759", "pop": "#EDC948",
    "reggae": "#76B7B2", "rock": "#BAB0AC",
}
EXTRA_COLOURS = ["#1F77B4", "#FF7F0E", "#2CA02C", "#D62728", "#9467BD", "#8C564B"]


def genre_colours(labels: Sequence[str]) -> dict[str, str]:
    extra = iter(EXTRA_COLOURS * 4)
    return {g: GENRE_COLOURS.get(g) or next(extra) for g in labels}


# exported charts: PNG at twice the screen size, named after the chart (Streamlit passes this
# to plotly's modebar "Download plot as png" button)
CHART_CONFIG: dict[str, Any] = {"displaylogo": False, "displayModeBar": True,
                "toImageButtonOptions": {"format": "png", "scale": 2}}


def chart_config(filename: str) -> dict:
    return {**CHART_CONFIG, "toImageButtonOptions": {**CHART_CONFIG["toImageButtonOptions"],
                                                     "filename": filename}}


PROJECTOR_SCALE = 1.3


def for_projector(fig: go.Figure, scale: float = PROJECTOR_SCALE) -> go.Figure:
    """A copy of `fig` for presentation mode: every font (titles, axes, ticks, legends,
    annotations, cell text) `scale` times larger and the chart a little taller, so it reads
    from the back of a classroom as the page's enlarged text does."""
    spec = fig.to_dict()

    def enlarge(node, in_font: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "size" and in_font and isinstance(value, (int, float)):
                    node[key] = round(value * scale, 1)
                else:
                    enlarge(value, key.endswith("font"))
        elif isinstance(node, list):
            for value in node:
                enlarge(value, in_font)

    enlarge(spec)
    layout = spec.setdefault("layout", {})
    layout.setdefault("font", {}).setdefault("size", round(12 * scale, 1))
    if isinstance(layout.get("height"), (int, float)):
        layout["height"] = int(layout["height"] * 1.15)
    return go.Figure(spec)


def music_map(music_map, highlight: Mapping[str, str] | None = None,
              clip: tuple[float, float] | None = None, clip_label: str = "your clip",
              neighbours: Sequence[str] = (), title: str | None = None,
              height: int = 560) -> go.Figure:
    """Every training track as a point coloured by genre (hover: artist, title, id).
    `highlight` {track id: note} rings those tracks (e.g. misclassified: 'predicted metal');
    `clip` is the chosen clip's place (a star) and `neighbours` its nearest tracks (ringed
    and joined to the star)."""
    m = music_map
    colours = genre_colours(sorted(set(m.genres)))
    fig = go.Figure()
    for genre in sorted(set(m.genres)):
        idx = [i for i, g in enumerate(m.genres) if g == genre]
        fig.add_trace(go.Scatter(
            x=m.coords[idx, 0], y=m.coords[idx, 1], mode="markers", name=genre,
            marker=dict(size=11, color=colours[genre], line=dict(width=0.5, color="white")),
            customdata=[[m.ids[i], m.artists[i] or "unknown artist",
                         m.titles[i] or "unknown title",
                         (highlight or {}).get(m.ids[i], "")] for i in idx],
            hovertemplate="%{customdata[1]} – %{customdata[2]}<br>%{customdata[0]} ("
                          + genre + ")<br>%{customdata[3]}<extra></extra>"))
    if highlight:
        idx = [i for i, t in enumerate(m.ids) if t in highlight]
        fig.add_trace(go.Scatter(
            x=m.coords[idx, 0], y=m.coords[idx, 1], mode="markers", name="misclassified",
            marker=dict(size=19, color="rgba(0,0,0,0)", line=dict(width=2.5, color="#111")),
            customdata=[[m.ids[i], highlight[m.ids[i]]] for i in idx],
            hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>"))
    if clip is not None:
        idx = [m.ids.index(t) for t in neighbours if t in m.ids]
        for i in idx:
            fig.add_trace(go.Scatter(x=[clip[0], m.coords[i, 0]], y=[clip[1], m.coords[i, 1]],
                                     mode="lines", line=dict(color="#555", width=1, dash="dot"),
                                     hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(
            x=[clip[0]], y=[clip[1]], mode="markers+text", name=clip_label,
            text=[clip_label], textposition="top center", textfont=dict(size=FONT_SIZE),
            marker=dict(symbol="star", size=24, color="#111", line=dict(width=1.5, color="white")),
            hovertemplate=clip_label + "<extra></extra>"))
    fig.update_xaxes(showticklabels=False, zeroline=False, showgrid=False)
    fig.update_yaxes(showticklabels=False, zeroline=False, showgrid=False, scaleanchor="x")
    fig = style(fig, title, height, f"{m.method.upper()} 1", f"{m.method.upper()} 2")
    fig.update_layout(legend=dict(itemsizing="constant"))
    return fig


# blue = occluding it *raises* the genre (evidence against), red = lowers it (evidence for),
# transparent near zero so the feature view shows through
_SALIENCY_SCALE = [[0.0, "rgba(33,102,172,0.85)"], [0.4, "rgba(33,102,172,0.15)"],
                   [0.5, "rgba(255,255,255,0)"], [0.6, "rgba(214,47,39,0.15)"],
                   [1.0, "rgba(214,47,39,0.9)"]]


def saliency_overlay(s, title: str | None = None, height: int = 430) -> go.Figure:
    """Two panels (top genre, runner-up): the segment's model input in grey with the
    occlusion saliency on top (red: this region pushed the model toward the genre)."""
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[f"toward {g} ({p:.0%})"
                                        for g, p in zip(s.genres, s.probabilities)])
    z = np.asarray(s.input, dtype=float).T
    if s.feature == "mfcc":   # each coefficient on its own scale: row 0 (loudness) hides the rest
        z = (z - z.mean(axis=1, keepdims=True)) / (z.std(axis=1, keepdims=True) + 1e-9)
    t = np.round(np.asarray(s.times), 3)
    y = list(range(z.shape[0]))
    lim = float(np.max(np.abs(s.maps))) or 1e-6
    unit = "MFCC" if s.feature == "mfcc" else "mel band (Hz)"
    for k in range(len(s.genres)):
        fig.add_trace(go.Heatmap(z=z, x=t, y=y, colorscale="Greys", reversescale=s.feature == "mel",
                                 showscale=False, hoverinfo="skip"), row=1, col=k + 1)
        custom = np.repeat(np.array([str(b) for b in s.bins])[:, None], z.shape[1], axis=1)
        fig.add_trace(go.Heatmap(
            z=np.asarray(s.maps[k]).T, x=t, y=y, colorscale=_SALIENCY_SCALE, zmin=-lim, zmax=lim,
            showscale=k == 1, customdata=custom,
            colorbar=dict(title=dict(text="probability drop<br>when hidden", side="right"),
                          tickformat=".0%", thickness=14),
            hovertemplate=("t = %{x} s<br>" + unit + " %{customdata}<br>hiding it changes "
                           + s.genres[k] + " by −%{z:.1%}<extra></extra>")), row=1, col=k + 1)
    if s.feature == "mel":
        step = max(1, len(s.bins) // 8)
        fig.update_yaxes(tickmode="array", tickvals=y[::step],
                         ticktext=[str(b) for b in s.bins[::step]])
    fig = style(fig, title, height)
    fig.update_xaxes(title_text="time (s)")
    fig.update_yaxes(title_text="MFCC coefficient" if s.feature == "mfcc" else "frequency (Hz)",
                     row=1, col=1)
    fig.update_annotations(font=dict(size=FONT_SIZE + 1))
    return fig
