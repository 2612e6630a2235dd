"""``python -m beerpi``: the same as ``python run_server.py``."""

import sys

from .cli import main

sys.exit(main(prog="python -m beerpi"))
