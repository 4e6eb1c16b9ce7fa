"""`python -m genre_core` and the `genre-studio` console script. The command line lives in
genre_core.cli: parser (the arguments, `main`), commands (the subcommands' bodies)."""
from __future__ import annotations

import sys

from genre_core.cli.common import data_paths  # noqa: F401 (API: the dataset roots of --data)
from genre_core.cli.parser import build_parser, main  # noqa: F401 (build_parser: API)

if __name__ == "__main__":
    sys.exit(main())
