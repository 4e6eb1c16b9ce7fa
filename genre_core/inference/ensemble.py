"""One calibrated answer: a learned weighting of the models' track probabilities.

The ensemble pools its members by a weighted geometric mean (log-linear pooling), then
applies temperature scaling:

    log p_ens(g)  =  (sum_m w_m log p_m(g)) / T  + const,      w_m >= 0, sum w_m = 1
    p_final(g)    =  (1 - f) p_ens(g)  +  f / n_genres                      (the floor f)

The weights are fitted by minimising the Brier score of *out-of-fold* track probabilities (every
member's prediction for a track comes from a fit that never saw that track's artist), then T
is fitted on the same out-of-fold predictions (temperature scaling: Guo et al., "On Calibration
of Modern Neural Networks", ICML 2017, there with the log-loss). Why the Brier score: it is a
proper score like the log-loss but bounded, so a few confidently wrong tracks cannot decide T.
With musicnn4's LDA head before its patch temperature (13 of 308 held-out tracks gave their
true genre under 0.001) the log-loss's T was 2.3 and made calibration worse (ECE 0.055 ->
0.127, nested); the Brier score's was 1.0 (ECE 0.054). Eleven numbers in all: with ~200
tracks a full stacking classifier over 50 probabilities would overfit, a weighting cannot.

The floor: the Brier score's T is pulled down by the many right answers near 1 (T 0.86), and
held out at that T, 65 of 308 tracks read 99.5 % or more; on real recordings those "100 %"
answers were right 17 times in 19. Mixing a share f of the uniform distribution in after T (f
fitted by the log-loss on the same out-of-fold predictions, which the floor keeps bounded)
caps the answer near 97 % and leaves every ranking, so every verdict's genre, as it was.
Nested (287 tracks), ECE on real recordings 0.134 -> 0.084, GTZAN 0.042 -> 0.065, all
0.044 -> 0.034; coverage and selective accuracy the same.

Its own accuracy is measured by a second, nested artist-grouped cross-validation over the
out-of-fold predictions (genre_core.training.ensemble): the weights that score a held-out
artist were fitted without that artist. Everything here is plain numpy/scipy and stored as
JSON.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genre_core.errors import GenreError

ENSEMBLE_FILE = "ensemble.json"
# below this calibrated top probability the answer is "not sure: A or B": the default of an
# ensemble file written before the rule was fitted (Ensemble.unsure_below is the one used)
UNSURE_BELOW = 0.5
# the fitted rule: named verdicts right this often in every view (GTZAN, real recordings)
NAMED_TARGET = 0.9
# a member whose fitted weight is below this share is left out and the others' weights refitted:
# at that weight it moves no verdict measurably (the Kaggle-table model at 0.025 of the shipped
# ensemble: the same verdicts within one track per view), while the verdict would wait for its
# input (the table features: 40 % of a prediction's CPU)
MIN_WEIGHT = 0.05
THRESHOLDS = np.round(np.arange(0.30, 0.96, 0.01), 2)
EPS = 1e-6
MAX_FLOOR = 0.3      # the floor's search range: at 0.3 a 10-genre answer tops out at 73 %


def _log(p: np.ndarray) -> np.ndarray:
    return np.log(np.clip(p, EPS, 1.0))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def pool(member_probs: list[np.ndarray], weights: np.ndarray, temperature: float) -> np.ndarray:
    """(..., n_labels) probabilities of each member -> pooled, temperature-scaled ones."""
    z = sum(w * _log(p) for w, p in zip(weights, member_probs))
    return _softmax(z / temperature)


def negative_log_likelihood(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-_log(probs[np.arange(len(y)), y]).mean())


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width bins of the top probability (the usual 'confidence' ECE)."""
    return reliability(probs, y, bins)["ece"]


def reliability(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> dict:
    """Per-bin confidence, accuracy and count (a reliability diagram's data) and the ECE."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        m = which == b
        if not m.any():
            continue
        acc, c = float(correct[m].mean()), float(conf[m].mean())
        ece += m.mean() * abs(acc - c)
        rows.append({"low": float(edges[b]), "high": float(edges[b + 1]), "confidence": c,
                     "accuracy": acc, "count": int(m.sum())})
    return {"ece": float(ece), "bins": rows}


def verdict_figures(probs: np.ndarray, y: np.ndarray,
                    unsure_below: float | np.ndarray) -> dict:
    """How the verdict reads for these tracks: coverage (share whose verdict names one
    genre), selective accuracy (right among those), top-2 hit rate (the truth is one of the
    two genres of a "not sure: A or B"), and the ECE of the probabilities. `unsure_below`:
    one threshold, or one per track (a nested evaluation's, each fitted without its artist;
    their median is reported)."""
    conf = probs.max(axis=1)
    named = conf >= unsure_below
    top2 = np.argsort(-probs, axis=1)[:, :2]
    in_two = (top2 == y[:, None]).any(axis=1)
    return {"n_tracks": int(len(y)), "coverage": float(named.mean()) if len(y) else 0.0,
            "selective_accuracy": (float((probs.argmax(1) == y)[named].mean())
                                   if named.any() else None),
            "top2_hit_rate": float(in_two[~named].mean()) if (~named).any() else None,
            "ece": expected_calibration_error(probs, y) if len(y) else 0.0,
            "unsure_below": float(np.median(unsure_below))}


def fit_unsure_threshold(probs: np.ndarray, y: np.ndarray, views: np.ndarray | None = None,
                         target: float = NAMED_TARGET) -> float:
    """The lowest threshold on the top probability (so the most named verdicts) at which the
    named verdicts are right at least `target` of the time in every view; the highest
    candidate when none reaches it."""
    views = np.zeros(len(y), dtype=object) if views is None else np.asarray(views)
    correct = probs.argmax(1) == y
    conf = probs.max(axis=1)
    for t in THRESHOLDS:
        ok = True
        for v in set(views.tolist()):
            named = (views == v) & (conf >= t)
            if named.any() and correct[named].mean() < target:
                ok = False
                break
        if ok:
            return float(t)
    return float(THRESHOLDS[-1])


def brier_score(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean squared distance between the probabilities and the one-hot truth (0 = perfect)."""
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.square(probs - onehot).sum(axis=1).mean())


def fit_temperature(logits_like: np.ndarray, y: np.ndarray) -> float:
    """T > 0 minimising the Brier score of softmax(z / T) (z = pooled log-probabilities)."""
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda logt: brier_score(
        _softmax(logits_like / np.exp(logt)), y), bounds=(np.log(0.05), np.log(20.0)),
        method="bounded")
    return float(np.exp(res.x))


def with_floor(probs: np.ndarray, floor: float) -> np.ndarray:
    """(1 - floor) probs + floor / n_genres: the same ranking, no answer above highest_answer."""
    return (1.0 - floor) * probs + floor / probs.shape[-1]


def highest_answer(floor: float, n_genres: int) -> float:
    """The highest probability a floored answer can read: (1 - floor) + floor / n_genres."""
    return 1.0 - floor * (1.0 - 1.0 / max(n_genres, 1))


def fit_floor(probs: np.ndarray, y: np.ndarray) -> float:
    """The floor in [0, MAX_FLOOR] minimising the log-loss of with_floor(probs, floor)."""
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda f: negative_log_likelihood(with_floor(probs, f), y),
                          bounds=(0.0, MAX_FLOOR), method="bounded")
    return float(res.x)


def fit_weights(member_probs: list[np.ndarray], y: np.ndarray) -> np.ndarray:
    """Non-negative weights summing to one. Fitted jointly with a scale (v = w / T, v >= 0,
    minimising the pooled Brier score) so that an overconfident but accurate member is not
    down-weighted merely to soften the pool: that is the temperature's job."""
    from scipy.optimize import minimize

    k = len(member_probs)
    if k == 1:
        return np.ones(1)
    logs = [_log(p) for p in member_probs]

    def loss(theta):
        v = np.exp(theta)
        return brier_score(_softmax(sum(vi * lp for vi, lp in zip(v, logs))), y)

    res = minimize(loss, np.full(k, -np.log(k)), method="L-BFGS-B",
                   bounds=[(-12.0, 4.0)] * k)
    v = np.exp(res.x)
    return v / v.sum()


@dataclass
class Ensemble:
    """Weights per member model and a temperature; `labels` fixes the column order."""

    labels: list[str]
    members: list[str]
    weights: list[float]
    temperature: float = 1.0
    info: dict = field(default_factory=dict)   # calibration figures, reliability data
    # below this calibrated top probability the verdict is "not sure: A or B" (fitted)
    unsure_below: float = UNSURE_BELOW
    floor: float = 0.0          # share of the uniform distribution mixed in after T (fitted)

    @classmethod
    def fit(cls, labels: list[str], oof: dict[str, np.ndarray], y: np.ndarray,
            views: np.ndarray | None = None, target: float = NAMED_TARGET,
            min_weight: float = MIN_WEIGHT) -> Ensemble:
        """oof: member name -> (n_tracks, n_labels) out-of-fold probabilities, rows aligned
        with y (indices into labels). The weights (members under `min_weight` left out, the
        rest refitted), then the temperature, then the floor, then the verdict's threshold
        (fit_unsure_threshold over `views`, e.g. GTZAN and real recordings)."""
        members = list(oof)
        probs = [np.asarray(oof[m], np.float64) for m in members]
        w = fit_weights(probs, y)
        kept = [i for i, wi in enumerate(w) if wi >= min_weight] or [int(np.argmax(w))]
        if len(kept) < len(members):
            members, probs = [members[i] for i in kept], [probs[i] for i in kept]
            w = fit_weights(probs, y)
        z = sum(wi * _log(p) for wi, p in zip(w, probs))
        t = fit_temperature(z, y)
        scaled = _softmax(z / t)
        floor = fit_floor(scaled, y)
        unsure = fit_unsure_threshold(with_floor(scaled, floor), y, views, target)
        return cls(list(labels), members, [float(v) for v in w], t, unsure_below=unsure,
                   floor=floor)

    def verdict(self, probabilities: dict[str, float]) -> str:
        """The verdict for this ensemble's track probabilities, with its fitted threshold."""
        return verdict(probabilities, self.unsure_below)

    def predict_proba(self, member_probs: dict[str, np.ndarray],
                      calibrated: bool = True) -> np.ndarray:
        """Pool the members' probabilities (any leading shape, last axis = labels); with
        calibrated=False the temperature and the floor are left out (the 'before' of the
        calibration)."""
        missing = [m for m in self.members if m not in member_probs]
        if missing:
            raise GenreError(f"ensemble needs the models {', '.join(missing)}, which the "
                             "bundle or the --models selection lacks")
        pooled = pool([np.asarray(member_probs[m], np.float64) for m in self.members],
                      np.asarray(self.weights), self.temperature if calibrated else 1.0)
        return with_floor(pooled, self.floor) if calibrated else pooled

    # -- persistence: JSON only, nothing executable
    def to_dict(self) -> dict:
        return {"labels": self.labels, "members": self.members, "weights": self.weights,
                "temperature": self.temperature, "unsure_below": self.unsure_below,
                "floor": self.floor, "info": self.info}

    def save(self, folder: Path) -> None:
        from genre_core.atomic import write_text_atomic

        Path(folder).mkdir(parents=True, exist_ok=True)
        write_text_atomic(Path(folder) / ENSEMBLE_FILE, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, folder: Path) -> Ensemble:
        path = Path(folder) / ENSEMBLE_FILE
        try:
            d = json.loads(path.read_text())
            ens = cls(list(d["labels"]), list(d["members"]), [float(w) for w in d["weights"]],
                      float(d["temperature"]), dict(d.get("info", {})),
                      float(d.get("unsure_below", UNSURE_BELOW)), float(d.get("floor", 0.0)))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise GenreError(f"{path}: ensemble file unreadable ({e})") from None
        if (len(ens.weights) != len(ens.members) or not ens.temperature > 0
                or not 0.0 < ens.unsure_below <= 1.0 or not 0.0 <= ens.floor <= MAX_FLOOR):
            raise GenreError(f"{path}: ensemble file is inconsistent")
        return ens


def verdict(probabilities: dict[str, float], unsure_below: float = UNSURE_BELOW) -> str:
    """'rock, 82 %' or, when the top probability is low, 'not sure: rock or metal'."""
    ranked = sorted(probabilities.items(), key=lambda kv: -kv[1])
    top, p = ranked[0]
    if p >= unsure_below or len(ranked) < 2:
        return f"{top}, {p:.0%}"
    return f"not sure: {top} or {ranked[1][0]} ({p:.0%} / {ranked[1][1]:.0%})"


def not_music_verdict(music_verdict: str) -> str:
    """The verdict for a clip that is silence, speech or a steady tone or noise (inference.domain):
    the models still answer, but no genre is asserted."""
    return f"not music it knows (best guess: {music_verdict})"


def verdict_for_clip(music_verdict: str, domain=None) -> str:
    """The verdict to show for a clip: `not_music_verdict` when its out-of-domain check
    (inference.domain.DomainCheck, or None when not run) says it is not music."""
    return (not_music_verdict(music_verdict) if domain is not None and domain.not_music
            else music_verdict)
