#!/usr/bin/env python3
"""Start BeerPi: ``python run_server.py --help`` explains the options."""

import sys

from beerpi.base.stop_signals import catch_stop_signals

if __name__ == "__main__":
    catch_stop_signals()  # first: a stop signal while starting must not leave a relay as it was
    from beerpi.cli.serve import main
    sys.exit(main())
