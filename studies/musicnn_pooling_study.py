"""Does the shipped musicnn4 head (shrunk LDA, patch logits / 4, a track = the mean of its
patches) gain from another pooling, more context, other inputs or another use of the two
domains, on both views?

Issue #23 lists "several excerpts pooled" among the candidates; the shared clips are 30-s
excerpts, so what can be measured here is pooling inside one: more patches of the same audio
(patches starting 1.5 s later, between the shipped non-overlapping ones), a geometric instead
of an arithmetic mean, a head on whole-track statistics. The other candidates are the inputs
(per-network heads, embeddings only, the zero-shot tag map mixed in, the musicnn networks'
mid-level mean_pool / max_pool beside the shipped columns or alone, as
studies/musicnn_midlevel_study.py measured them on GTZAN with the earlier head) and the domains (real
clips counted twice, GTZAN's training features moved to the real recordings' mean, or back),
the head itself (a fixed LDA shrinkage, PCA before the LDA, an RBF support-vector machine) and
training copies of every clip pitch-shifted and time-stretched (a key and tempo the clip does
not have: two copies a clip, +-1 to 2 semitones, 0.9-1.1 times the tempo, librosa.effects).

Each candidate is a plain sklearn pipeline, StandardScaler + LinearDiscriminantAnalysis
(lsqr, Ledoit-Wolf shrinkage, equal genre priors), the same arithmetic as
genre_core.models.musicnn_multi with its defaults: by leave-one-artist-out the "shipped" line
reproduces the bundle's report (GTZAN 0.794 / 0.776, real 0.769 / 0.765). Screened on 10
artist folds (GroupKFold over the 173 artists of both sets, group order shuffled with seeds
1-3; per-seed track accuracies printed GTZAN, real, GTZAN, real, ...), `--loao` for
leave-one-artist-out. Scored per view: track accuracy / balanced accuracy.

Run: python -m studies.musicnn_pooling_study [--gtzan ROOT] [--real ROOT] [--loao]
     [--offsets FILE.npz] [CANDIDATE ...]
     [--mid FILE.npz] [--copies FILE.npz]
(the offset candidates extract the later patches once, about 3 min on 2 cores, into FILE.npz;
the pool candidates the musicnn networks' mid-level pools, about 3 min, into --mid's file; the
copies candidate its pitch and tempo copies, about 14 min, into --copies' file)
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.special import softmax

from genre_core.atomic import atomic_write

CANDIDATES = ("shipped", "geometric mean", "patch + track mean", "track LDA on mean",
              "track LDA on mean+std", "per-network heads", "embeddings only",
              "real clips twice", "0.85 LDA + 0.15 zero-shot tags", "GTZAN moved to real",
              "real moved to GTZAN", "train on both offsets", "predict on both offsets",
              "both offsets", "+ max_pool", "+ mean_pool", "+ mean and max pool",
              "mean and max pool alone", "LDA shrinkage 0.1", "LDA shrinkage 0.5",
              "PCA 128 + LDA", "RBF SVM", "+ pitch and tempo copies")
OFFSET_SECONDS = 1.5
MEAN_POOL = np.r_[0:753, 1506:2259]      # columns of mid_level's arrays
MAX_POOL = np.r_[753:1506, 2259:3012]


def per_track_cache(tracks, config, path: Path, compute) -> dict[str, np.ndarray]:
    """{track id: compute(the audio musicnn hears)}, computed once into `path` (an npz keyed
    by track id with '/' as '|'; written atomically, so a stopped run leaves none)."""
    from genre_core.features.musicnn.units import musicnn_input
    from genre_core.inference.audio import load_audio

    if not path.exists():
        out = {}
        for t in tracks:
            with t.open() as f:
                clip = load_audio(f, config, name=t.display())
            out[t.id.replace("/", "|")] = compute(musicnn_input(clip.samples, config))
        atomic_write(path, lambda f: np.savez(f, **out))
    with np.load(path) as f:
        return {k.replace("|", "/"): f[k] for k in f.files}


def pitch_tempo_copies(tracks, config, path: Path) -> dict[str, np.ndarray]:
    """{track id: musicnn4 features of two copies of the clip, each pitch-shifted by 1 to 2
    semitones up or down and time-stretched by 0.9-1.1 (rows of both copies stacked)}. Each
    clip's draws are seeded by its audio, so a rerun makes the same copies."""
    import zlib

    import librosa

    from genre_core.features.musicnn.zoo import extract_all

    def copies(y: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(zlib.crc32(y.tobytes()))
        out = []
        for _ in range(2):
            z = librosa.effects.pitch_shift(y, sr=config.sample_rate,
                                            n_steps=float(rng.choice([-2, -1.5, -1, 1, 1.5, 2])))
            z = librosa.effects.time_stretch(z, rate=float(rng.uniform(0.9, 1.1)))
            out.append(extract_all(z.astype(np.float32), config.sample_rate))
        return np.concatenate(out)
    return per_track_cache(tracks, config, path, copies)


def later_patches(tracks, config, path: Path) -> dict[str, np.ndarray]:
    """{track id: musicnn4 features of the patches starting OFFSET_SECONDS later}."""
    from genre_core.features.musicnn.zoo import extract_all

    skip = int(OFFSET_SECONDS * config.sample_rate)
    return per_track_cache(tracks, config, path,
                           lambda y: extract_all(y[skip:], config.sample_rate))


class Data:
    """The 308 tracks' musicnn4 patches (the shipped columns), genres, views and artists."""

    def __init__(self, gtzan: str, real: str, offsets: Path | None, mid: Path | None,
                 copies: Path | None = None):
        from genre_core.features.musicnn.zoo import column_layout
        from genre_core.models.musicnn_multi import DEFAULTS, chosen_columns
        from genre_core.models.musicnn_tags import MusicnnTagsModel
        from studies.both_views import load_both_views

        both = load_both_views(gtzan, real)
        tracks, feats, config = both.tracks, both.feats, both.config
        self.labels, self.ids = both.labels, both.ids
        self.y, self.view, self.g = both.y, both.view, both.g
        cols = chosen_columns(DEFAULTS)
        self.F = [feats[i][:, cols].astype(np.float64) for i in self.ids]
        self.raw = [feats[i] for i in self.ids]
        self.H: list[np.ndarray] = []
        if offsets is not None:
            later = later_patches(tracks, config, offsets)
            self.H = [later[i][:, cols].astype(np.float64) for i in self.ids]
        self.M: list[np.ndarray] = []
        if mid is not None:
            pools = mid_level(tracks, config, mid)
            self.M = [pools[i].astype(np.float64) for i in self.ids]
        self.C: list[np.ndarray] = []
        if copies is not None:
            shifted = pitch_tempo_copies(tracks, config, copies)
            self.C = [shifted[i][:, cols].astype(np.float64) for i in self.ids]
        layout = column_layout()
        nets = ("MSD_musicnn", "MTT_musicnn", "MSD_vgg", "MTT_vgg")
        self.per_net = [np.r_[layout[f"{n}/taggram"], layout[f"{n}/embedding"]] for n in nets]
        self.embedding = np.concatenate([np.r_[layout[f"{n}/embedding"]] for n in nets])
        self.tags = MusicnnTagsModel(self.labels)
        self.shared_genres = sorted(set(self.y[self.view == "realworld"]))


def _lda(k: int, shrinkage: float | str = "auto"):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    return LinearDiscriminantAnalysis(solver="lsqr", shrinkage=shrinkage,
                                      priors=np.full(k, 1 / k))


def patch_head(d: Data, tr, te, feat=None, test=None, pool="mean", extra=(), head=None) -> dict:
    """Fit on the patches of tracks `tr` (plus `extra` (features, genre) pairs); return
    {k: track probabilities} for `te` (patch logits / PATCH_TEMPERATURE, then pooled). `head`:
    another sklearn classifier (or pipeline) than the shipped LDA."""
    from sklearn.preprocessing import StandardScaler

    from genre_core.models.musicnn_multi import PATCH_TEMPERATURE

    feat = feat or (lambda k: d.F[k])
    parts = [(feat(k), d.y[k]) for k in tr] + list(extra)
    X = np.concatenate([x for x, _ in parts])
    Y = np.concatenate([[c] * len(x) for x, c in parts])
    scaler = StandardScaler().fit(X)
    head = (head or _lda(len(d.labels))).fit(scaler.transform(X), Y)
    out = {}
    for k in te:
        p = softmax(head.decision_function(scaler.transform((test or feat)(k)))
                    / PATCH_TEMPERATURE, axis=1)
        out[k] = softmax(np.log(p).mean(0)) if pool == "geometric" else p.mean(0)
    return out


def pca_lda(k: int):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    return make_pipeline(PCA(128, whiten=True, random_state=0), _lda(k))


def rbf_svm():
    """Its one-vs-rest decision values go through the same softmax as the LDA's logits."""
    from sklearn.svm import SVC

    return SVC(C=1.0, kernel="rbf", gamma="scale", class_weight="balanced")


def track_head(d: Data, tr, te, stat) -> dict:
    """An LDA on one row of statistics per track."""
    from sklearn.preprocessing import StandardScaler

    X = np.stack([stat(d.F[k]) for k in tr])
    scaler = StandardScaler().fit(X)
    head = _lda(len(d.labels)).fit(scaler.transform(X), d.y[tr])
    return {k: head.predict_proba(scaler.transform(stat(d.F[k])[None]))[0] for k in te}


def moved(d: Data, tr, te, to: str) -> dict:
    """GTZAN's (or the real recordings') training patches shifted by the difference of the two
    domains' genre-balanced means (over the genres both have)."""
    src = "GTZAN" if to == "realworld" else "realworld"

    def mean(v):
        return np.mean([np.concatenate([d.F[k] for k in tr if d.view[k] == v and d.y[k] == c]
                                       ).mean(0)
                        for c in d.shared_genres
                        if any(d.view[k] == v and d.y[k] == c for k in tr)], axis=0)
    shift = mean(to) - mean(src)
    keep = np.array([k for k in tr if d.view[k] != src])
    return patch_head(d, keep, te,
                      extra=[(d.F[k] + shift, d.y[k]) for k in tr if d.view[k] == src])


def per_network(d: Data, tr, te) -> dict:
    outs = [patch_head(d, tr, te, feat=lambda k, c=c: d.F[k][:, c]) for c in d.per_net]
    return {k: np.mean([o[k] for o in outs], axis=0) for k in te}


def with_tags(d: Data, tr, te) -> dict:
    base = patch_head(d, tr, te)
    return {k: 0.85 * base[k] + 0.15 * d.tags.predict_proba(d.raw[k]).mean(0) for k in te}


def _both(d: Data):
    return lambda k: np.concatenate([d.F[k], d.H[k]])


RUN = {
    "shipped": lambda d, tr, te: patch_head(d, tr, te),
    "geometric mean": lambda d, tr, te: patch_head(d, tr, te, pool="geometric"),
    "patch + track mean": lambda d, tr, te: patch_head(d, tr, te, feat=lambda k: np.hstack(
        [d.F[k], np.repeat(d.F[k].mean(0, keepdims=True), len(d.F[k]), 0)])),
    "track LDA on mean": lambda d, tr, te: track_head(d, tr, te, lambda x: x.mean(0)),
    "track LDA on mean+std": lambda d, tr, te: track_head(
        d, tr, te, lambda x: np.concatenate([x.mean(0), x.std(0)])),
    "per-network heads": per_network,
    "embeddings only": lambda d, tr, te: patch_head(d, tr, te, feat=lambda k: d.F[k][:, d.embedding]),
    "real clips twice": lambda d, tr, te: patch_head(
        d, tr, te, extra=[(d.F[k], d.y[k]) for k in tr if d.view[k] == "realworld"]),
    "0.85 LDA + 0.15 zero-shot tags": with_tags,
    "GTZAN moved to real": lambda d, tr, te: moved(d, tr, te, "realworld"),
    "real moved to GTZAN": lambda d, tr, te: moved(d, tr, te, "GTZAN"),
    "train on both offsets": lambda d, tr, te: patch_head(d, tr, te, feat=_both(d),
                                                          test=lambda k: d.F[k]),
    "predict on both offsets": lambda d, tr, te: patch_head(d, tr, te, test=_both(d)),
    "both offsets": lambda d, tr, te: patch_head(d, tr, te, feat=_both(d)),
    "+ max_pool": lambda d, tr, te: patch_head(
        d, tr, te, feat=lambda k: np.hstack([d.F[k], d.M[k][:, MAX_POOL]])),
    "+ mean_pool": lambda d, tr, te: patch_head(
        d, tr, te, feat=lambda k: np.hstack([d.F[k], d.M[k][:, MEAN_POOL]])),
    "+ mean and max pool": lambda d, tr, te: patch_head(
        d, tr, te, feat=lambda k: np.hstack([d.F[k], d.M[k]])),
    "mean and max pool alone": lambda d, tr, te: patch_head(d, tr, te, feat=lambda k: d.M[k]),
    "LDA shrinkage 0.1": lambda d, tr, te: patch_head(d, tr, te, head=_lda(len(d.labels), 0.1)),
    "LDA shrinkage 0.5": lambda d, tr, te: patch_head(d, tr, te, head=_lda(len(d.labels), 0.5)),
    "PCA 128 + LDA": lambda d, tr, te: patch_head(d, tr, te, head=pca_lda(len(d.labels))),
    "RBF SVM": lambda d, tr, te: patch_head(d, tr, te, head=rbf_svm()),
    "+ pitch and tempo copies": lambda d, tr, te: patch_head(
        d, tr, te, extra=[(d.C[k], d.y[k]) for k in tr]),
}
assert tuple(RUN) == CANDIDATES


def score(d: Data, name: str, loao: bool) -> str:
    """One line: per view track / balanced accuracy, averaged over the group orders."""
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import GroupKFold

    n_artists = len(set(d.g))
    scores: dict[str, list] = {v: [] for v in ("GTZAN", "realworld")}
    per_seed = []
    for seed in ((0,) if loao else (1, 2, 3)):
        order = {a: i for i, a in enumerate(np.random.default_rng(seed).permutation(sorted(set(d.g))))}
        groups = np.array([order[a] for a in d.g])
        probs = np.zeros((len(d.y), len(d.labels)))
        for tr, te in GroupKFold(n_artists if loao else 10).split(d.F, d.y, groups):
            for k, p in RUN[name](d, tr, te).items():
                probs[k] = p
        pred = probs.argmax(1)
        for v in scores:
            m = d.view == v
            scores[v].append(((pred[m] == d.y[m]).mean(), balanced_accuracy_score(d.y[m], pred[m])))
            per_seed.append(f"{scores[v][-1][0]:.3f}")
    line = [f"{name:32s}"]
    for v, s in scores.items():
        line.append(f"{v} {np.mean([a for a, _ in s]):.3f} / {np.mean([b for _, b in s]):.3f}")
    return "  ".join(line) + f"  seeds {' '.join(per_seed)}"


def mid_level(tracks, config, path: Path) -> dict[str, np.ndarray]:
    """{track id: the MSD and MTT musicnn networks' mean_pool and max_pool per patch
    (4 x 753 columns: MSD mean, MSD max, MTT mean, MTT max)}."""
    from genre_core.features.musicnn import backbone as mb
    from genre_core.features.musicnn.zoo import load_network

    nets: list = []     # loaded at the first track computed: not when the cache is there

    def pools(y: np.ndarray) -> np.ndarray:
        nets[:] = nets or [load_network("MSD_musicnn"), load_network("MTT_musicnn")]
        x = mb.log_mel_patches(y, config.sample_rate)
        outputs = [net.predict(x, verbose=0, batch_size=16) for net in nets]
        # OUTPUT_NAMES: taggram, penultimate, mean_pool, max_pool
        return np.concatenate([b for o in outputs for b in (o[2], o[3])], 1).astype(np.float32)
    return per_track_cache(tracks, config, path, pools)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gtzan", default="../shared/gtzan")
    ap.add_argument("--real", default="../shared/realworld")
    ap.add_argument("--loao", action="store_true", help="leave-one-artist-out, not 10 folds x 3")
    ap.add_argument("--offsets", default="/tmp/musicnn4_later_patches.npz", type=Path)
    ap.add_argument("--mid", default="/tmp/musicnn_mid_level.npz", type=Path)
    ap.add_argument("--copies", default="/tmp/musicnn4_pitch_tempo_copies.npz", type=Path)
    ap.add_argument("candidates", nargs="*", metavar="CANDIDATE",
                    help=f"any of: {', '.join(CANDIDATES)} (default: all)")
    args = ap.parse_args()
    unknown = sorted(set(args.candidates) - set(CANDIDATES))
    if unknown:
        ap.error(f"unknown candidate(s) {unknown}; choose from {list(CANDIDATES)}")
    # balanced accuracy on the real view: a prediction of a genre it has none of (classical,
    # disco) is an error, as it should be; sklearn warns about it every time
    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
    wanted = args.candidates or list(CANDIDATES)
    d = Data(args.gtzan, args.real,
             args.offsets if any("offsets" in c for c in wanted) else None,
             args.mid if any("pool" in c for c in wanted) else None,
             args.copies if any("copies" in c for c in wanted) else None)
    print(f"{len(d.ids)} tracks, {len(set(d.g))} artists; "
          + ("leave-one-artist-out" if args.loao else "10 artist folds, group order seeds 1-3"),
          flush=True)
    for name in wanted:
        t0 = time.time()
        print(score(d, name, args.loao) + f"  {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
