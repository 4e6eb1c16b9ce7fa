"""Helpers shared by the command-line parser (cli.parser) and the subcommands (cli.commands,
table_commands, ensemble_command): the shared arguments, dataset paths, feature settings,
and reporting. The subcommands import this module, never the parser."""
from __future__ import annotations

import argparse
import os
import sys

from genre_core.config import FeatureConfig
from genre_core.errors import GenreError


def eprint(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def add_feature_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-seconds", type=float, default=30.0,
                   help="analyse N seconds of each file: a file longer than N + 3 s is read from its "
                        "middle, not its intro (0 = whole file; default 30)")


def add_data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", action="append", default=None, metavar="PATH",
                   help="dataset root: a Kaggle GTZAN download (the Data folder, its parent, "
                        "genres_original, or the .zip) or any folder of genre folders; repeat "
                        "(--data A --data B) to use several at once (e.g. GTZAN plus a folder "
                        "of your own labelled music); default $GENRE_DATA "
                        f"(several separated by {os.pathsep!r})")


def data_paths(values: list[str] | None) -> list[str]:
    """The dataset roots from --data (repeatable) or $GENRE_DATA; each may hold several
    separated by os.pathsep."""
    raw = values or ([os.environ["GENRE_DATA"]] if os.environ.get("GENRE_DATA") else [])
    paths = [p for v in raw for p in v.split(os.pathsep) if p.strip()]
    if not paths:
        raise GenreError("no dataset given: pass --data PATH (repeatable) or set GENRE_DATA")
    return paths


def feature_config(args) -> FeatureConfig:
    """The feature settings a subcommand's --max-seconds asks for."""
    return FeatureConfig(max_seconds=(args.max_seconds or None))
