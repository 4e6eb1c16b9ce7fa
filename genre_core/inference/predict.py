"""Predictor: a bundle loaded once; every segment of a clip goes to each model in one batch."""
from __future__ import annotations

import functools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from genre_core.errors import GenreError
from genre_core.features import extract
from genre_core.features import kind as feature_kind
from genre_core.inference.audio import AudioSource, Clip, load_audio
from genre_core.inference.bundle import Bundle, load_bundle
from genre_core.inference.domain import DomainCheck, check_domain


@dataclass
class ModelPrediction:
    genre: str
    probabilities: dict[str, float]           # track level: mean over segments
    segment_probabilities: np.ndarray         # (n_units, n_labels)
    segment_starts: list[float]               # seconds; one entry per unit
    # below this top probability the verdict is "not sure: A or B" (the ensemble's, fitted and
    # stored in its file; inference.ensemble.UNSURE_BELOW for a single model)
    unsure_below: float | None = None
    # what the model heard (a registered feature kind; None for the ensemble, which hears its
    # members), and whether it gives one answer for the whole clip instead of one per segment
    feature: str | None = None
    whole_clip: bool = False

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: -kv[1])[:k]

    def verdict(self) -> str:
        """'rock, 82 %', or 'not sure: rock or metal (...)' when the top probability is low."""
        from genre_core.inference.ensemble import UNSURE_BELOW, verdict

        return verdict(self.probabilities,
                       UNSURE_BELOW if self.unsure_below is None else self.unsure_below)


@dataclass
class Prediction:
    clip: Clip
    labels: list[str]
    models: dict[str, ModelPrediction]
    timings: dict[str, float] = field(default_factory=dict)   # seconds per stage
    # musicnn's 50 Million-Song-Dataset tags averaged over the clip (when the bundle has it):
    # "what a model trained on a million songs hears"
    tags: dict[str, float] = field(default_factory=dict)
    # {vocabulary: {tag: probability}}: Million Song Dataset and, with the four-network
    # feature, MagnaTagATune too ("what models trained on other music hear")
    tag_sets: dict[str, dict[str, float]] = field(default_factory=dict)
    # the clip's "musicnn" units (MSD_musicnn taggram + embedding per patch) when a model's
    # input held them: the map and the out-of-domain check reuse them instead of re-running
    musicnn_units: np.ndarray | None = None
    # is it music, and music like the training music? (inference.domain); the verdict is
    # computed after it, so no surface names a genre for a clip it calls not music
    domain: DomainCheck | None = None

    @property
    def verdict(self) -> str | None:
        """The calibrated ensemble's verdict ('rock, 82 %', 'not sure: ...', or 'not music it
        knows (...)' when the domain judgement says so); None without an ensemble."""
        from genre_core.inference.ensemble import verdict_for_clip

        if "ensemble" not in self.models:
            return None
        return verdict_for_clip(self.models["ensemble"].verdict(), self.domain)

    def to_json(self) -> dict:
        verdict = self.verdict
        warnings = self.domain.messages() if self.domain is not None else []
        return {
            "file": self.clip.name, "duration": round(self.clip.duration, 3),
            "analysed_seconds": round(self.clip.loaded_seconds, 3),
            "analysed_from": round(self.clip.offset, 3),
            **({"warnings": self.clip.warnings} if self.clip.warnings else {}),
            **({"tags": {t: round(p, 4) for t, p in self.tags.items()}} if self.tags else {}),
            **({"tag_sets": {v: {t: round(p, 4) for t, p in tags.items()}
                             for v, tags in self.tag_sets.items()}} if self.tag_sets else {}),
            **({"verdict": verdict} if verdict is not None else {}),
            **({"out_of_domain": warnings} if warnings else {}),
            "models": {name: {
                "genre": mp.genre,
                **({"feature": mp.feature} if mp.feature else {}),
                "probabilities": {g: round(p, 5) for g, p in mp.probabilities.items()},
                "segments": [{"start": s, "probabilities": {g: round(float(p), 5) for g, p in
                                                            zip(self.labels, row)}}
                             for s, row in zip(mp.segment_starts, mp.segment_probabilities)],
            } for name, mp in self.models.items()},
        }


MSD_VOCABULARY, MTT_VOCABULARY = "Million Song Dataset", "MagnaTagATune"


def musicnn_units(features: dict[str, np.ndarray]) -> np.ndarray | None:
    """The "musicnn" feature from whichever musicnn kind was computed (musicnn4's first
    columns are MSD_musicnn's taggram and embedding, the "musicnn" feature), else None."""
    if "musicnn" in features:
        return features["musicnn"]
    if "musicnn4" in features:
        from genre_core.features.musicnn.zoo import column_layout

        return features["musicnn4"][:, :column_layout()["MSD_musicnn/embedding"].stop]
    return None


def clip_tag_sets(features: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Clip-level tags of the pretrained musicnn networks, per vocabulary, most likely first,
    from whichever musicnn feature the bundle's models needed (none: no extra work)."""
    if "musicnn4" in features:
        from genre_core.features.musicnn.zoo import clip_tags

        both = clip_tags(features["musicnn4"])
        return {MSD_VOCABULARY: both["MSD"], MTT_VOCABULARY: both["MTT"]}
    if "musicnn" in features:
        from genre_core.features.musicnn.backbone import MSD_TAGS

        mean = features["musicnn"][:, :len(MSD_TAGS)].mean(axis=0)
        return {MSD_VOCABULARY: dict(sorted(((t, float(p)) for t, p in zip(MSD_TAGS, mean)),
                                            key=lambda kv: -kv[1]))}
    return {}


def _lower_priority() -> None:
    """Initializer of the thread that computes what no verdict waits for: a higher nice value
    for this thread alone (Linux), so pages, other clips' verdicts and saliency get the cores
    first; elsewhere it runs as any thread."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


@functools.lru_cache(maxsize=1)
def _after_the_verdict():
    """One low-priority thread for the last stage of every staged prediction in the process:
    several clips' table features wait their turn behind everyone's verdicts."""
    return ThreadPoolExecutor(1, thread_name_prefix="genre-after-verdict",
                              initializer=_lower_priority)


class Predictor:
    """Load a bundle once, then predict any number of clips.

    `lazy=True` returns at once and loads the models in background threads while the first
    clip is decoded and its features computed (the command line's cold start); load errors
    then surface on the first prediction. Timings (seconds) per clip: ``decode``,
    ``extract`` (all feature kinds, wall), ``extract:<kind>``, ``model:<name>``, and
    ``load:<name>`` when a prediction had to wait for a model still loading.
    """

    def __init__(self, bundle: Bundle | str | os.PathLike | None = None,
                 models: list[str] | None = None, lazy: bool = False,
                 verdict_first: bool = False):
        self.bundle = (bundle if isinstance(bundle, Bundle)
                       else load_bundle(bundle, models, lazy=lazy, verdict_first=verdict_first))
        self.config = self.bundle.feature_config
        self.labels = self.bundle.labels
        self.kinds = sorted({self.bundle.feature_of(n) for n in self.bundle.models})
        # the bundle's map of music (inference.music_map): the domain judgement's distance to
        # the training tracks; without a readable one the judgement uses the audio alone and
        # `map_problem` says why (for a caller to say once)
        from genre_core.inference.music_map import load_map

        self.map_problem: str | None = None
        try:
            self.music_map = load_map(self.bundle.path)
        except GenreError as e:
            self.music_map, self.map_problem = None, str(e)

    def wait_models(self, names: list[str] | None = None) -> None:
        """Wait for models still loading (lazy), all or `names`; raise the first load
        error."""
        for name in self.bundle.models if names is None else names:
            self.bundle.models[name]

    def fast_models(self) -> list[str]:
        """The models whose input takes milliseconds (the MFCC and log-mel networks): what the
        app shows first while the musicnn networks and the table features are computed."""
        return [n for n in self.bundle.models if feature_kind(self.bundle.feature_of(n)).fast]

    def features(self, clip: Clip, timings: dict[str, float] | None = None,
                 kinds: list[str] | None = None) -> dict[str, np.ndarray]:
        """Each feature kind the bundle's models need (or `kinds`), computed once per clip;
        the kinds run in parallel threads (numpy, scipy, bottleneck and ONNX Runtime release
        the GIL)."""
        timings = {} if timings is None else timings
        kinds = self.kinds if kinds is None else kinds

        def run(kind: str) -> np.ndarray:
            t = time.perf_counter()
            out = extract(kind, clip.samples, self.config)
            timings[f"extract:{kind}"] = time.perf_counter() - t
            return out

        if len(kinds) == 1:
            return {kind: run(kind) for kind in kinds}
        with ThreadPoolExecutor(len(kinds), thread_name_prefix="features") as pool:
            futures = {kind: pool.submit(run, kind) for kind in kinds}
            return {kind: f.result() for kind, f in futures.items()}

    def predict_clip(self, clip: Clip, features: dict[str, np.ndarray] | None = None,
                     models: list[str] | None = None, whole_domain: bool | None = None,
                     domain: DomainCheck | None = None) -> Prediction:
        """Every model's prediction, or only `models`' (the ensemble is added when all its
        members are among them). The domain judgement is the whole one (with the distance to
        the training music) for every model's prediction, or when `whole_domain` says so;
        `domain`: a whole one already made for this clip (the staged prediction's)."""
        names = list(self.bundle.models) if models is None else [
            n for n in self.bundle.models if n in models]
        timings: dict[str, float] = {}
        if features is None:
            t = time.perf_counter()
            features = self.features(clip, timings,
                                     sorted({self.bundle.feature_of(n) for n in names}))
            timings["extract"] = time.perf_counter() - t
        out: dict[str, ModelPrediction] = {}
        for name in names:
            t = time.perf_counter()
            model = self.bundle.models[name]          # waits when still loading (lazy)
            if time.perf_counter() - t > 1e-3:
                timings[f"load:{name}"] = time.perf_counter() - t
            t = time.perf_counter()
            units = features[model.feature]
            probs = model.predict_proba(units)
            timings[f"model:{name}"] = time.perf_counter() - t
            track = probs.mean(axis=0)
            heard = feature_kind(model.feature)
            out[name] = ModelPrediction(self.labels[int(track.argmax())],
                                        {g: float(p) for g, p in zip(self.labels, track)},
                                        probs, heard.unit_starts(len(units), self.config),
                                        feature=heard.name, whole_clip=heard.whole_clip)
        if self.bundle.ensemble is not None and set(self.bundle.ensemble.members) <= set(out):
            out = {"ensemble": self._ensemble(out), **out}
        tag_sets = clip_tag_sets(features)
        tags = tag_sets.get(MSD_VOCABULARY, {})
        clip_units = musicnn_units(features)
        if domain is None:
            t = time.perf_counter()
            whole = models is None if whole_domain is None else whole_domain
            domain = self.domain(clip, clip_units, whole=whole)
            timings["domain"] = time.perf_counter() - t
        return Prediction(clip, self.labels, out, timings, tags, tag_sets, clip_units, domain)

    def verdict_models(self) -> list[str]:
        """The models the calibrated verdict needs: the fast ones and the ensemble's members
        (every model when the bundle has no ensemble)."""
        return self.bundle.verdict_models()

    def predict_staged(self, clip: Clip, on_first=None, on_verdict=None) -> Prediction:
        """Every model's prediction, as `predict_clip`, with its inputs computed in three
        stages so that what a person waits for comes first: the fast models' inputs
        (milliseconds; `on_first` receives their answers), then the inputs the ensemble's
        members need (`on_verdict` receives those models' answers with the calibrated verdict
        and the domain judgement, the same as the whole prediction's), then the rest (e.g. the
        table features of a model outside the ensemble). Each stage's inputs run in parallel;
        the stages run one after the other, so the verdict's inputs have the cores to
        themselves; with `on_verdict`, the last stage runs in one low-priority thread shared by
        the process (nobody waits for it then). Every input is computed once."""
        stages = [(self.fast_models(), on_first, False), (self.verdict_models(), on_verdict, True),
                  (list(self.bundle.models), None, True)]
        timings: dict[str, float] = {}
        features: dict[str, np.ndarray] = {}
        judged = None          # the verdict stage's domain judgement, reused at the end
        t = time.perf_counter()
        for names, hand_over, whole_domain in stages:
            if hand_over is None:     # the last stage: models not loaded yet start now
                self.bundle.start_deferred_loads()
            kinds = sorted({self.bundle.feature_of(n) for n in names} - set(features))
            if kinds and hand_over is None and on_verdict is not None:
                # nobody waits for these once the verdict is out: at low priority
                features.update(_after_the_verdict().submit(
                    self.features, clip, timings, kinds).result())
            elif kinds:
                features.update(self.features(clip, timings, kinds))
            if hand_over is not None and names and set(features) < set(self.kinds):
                try:                    # an early look, while inputs are still to come
                    early = self.predict_clip(clip, features=dict(features), models=names,
                                              whole_domain=whole_domain)
                    if whole_domain:
                        judged, timings["domain"] = early.domain, early.timings["domain"]
                    hand_over(early)
                except Exception:  # noqa: BLE001 - an early look only; the answer goes on
                    pass
        timings["extract"] = time.perf_counter() - t
        prediction = self.predict_clip(clip, features=features, domain=judged)
        prediction.timings = {**timings, **prediction.timings}
        return prediction

    def domain(self, clip: Clip, units: np.ndarray | None = None,
               whole: bool = True) -> DomainCheck:
        """The clip's domain judgement: the audio signals always; the distance to the training
        music when the bundle has a map and the clip's musicnn units are at hand (computed
        here for a whole prediction whose models did not need them; a partial prediction,
        such as the fast models' first answers, leaves the distance out)."""
        from genre_core.inference.music_map import clip_embedding

        embedding = None
        if self.music_map is not None:
            if units is None and whole:
                units = extract("musicnn", clip.samples, self.config)
            if units is not None:
                embedding = clip_embedding(units)
        return check_domain(clip.samples, clip.sample_rate, embedding, self.music_map)

    def _ensemble(self, members: dict[str, ModelPrediction]) -> ModelPrediction:
        """The calibrated combination: track level from the members' track probabilities;
        per segment from each member's segment nearest in time (a whole-clip member counts
        for every segment)."""
        ens = self.bundle.ensemble
        assert ens is not None              # called only when the bundle has an ensemble
        track = ens.predict_proba({m: np.array([members[m].probabilities[g] for g in self.labels])
                                   for m in ens.members})
        starts = max((members[m].segment_starts for m in ens.members), key=len)
        per_segment = {}
        for m in ens.members:
            mp = members[m]
            nearest = [int(np.argmin(np.abs(np.asarray(mp.segment_starts) - s))) for s in starts]
            per_segment[m] = mp.segment_probabilities[nearest]
        segs = ens.predict_proba(per_segment).astype(np.float32)
        return ModelPrediction(self.labels[int(track.argmax())],
                               {g: float(p) for g, p in zip(self.labels, track)}, segs,
                               list(starts), ens.unsure_below)

    def predict(self, source: AudioSource | Clip, name: str | None = None) -> Prediction:
        """Decode (unless given a Clip) and predict; raises AudioError for unusable input."""
        t = time.perf_counter()
        clip = source if isinstance(source, Clip) else load_audio(source, self.config, name=name)
        decode = time.perf_counter() - t
        pred = self.predict_clip(clip)
        pred.timings = {"decode": decode, **pred.timings}
        return pred
