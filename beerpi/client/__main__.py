"""``python -m beerpi.client``: see ``python -m beerpi.client --help``."""

import sys

from beerpi.client.cli import main

sys.exit(main())
