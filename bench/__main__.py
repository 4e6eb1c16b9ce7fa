"""python -m bench [--quick] [--skip ...]: the same as `python -m genre_core bench`."""
import sys

from genre_core.__main__ import main

sys.exit(main(["bench", *sys.argv[1:]]))
