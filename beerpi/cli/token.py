"""``beerpi token``: print the control token and the dashboard links that carry it.

It reads the token the server uses (``--token``/``BEERPI_TOKEN``, else the token file beside
the database or ``--token-file``) and never creates one: a token file made by another user
(root, by ``sudo``) could not be read by the service.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from beerpi.base.errors import BeerPiError
from beerpi.config import parse_config
from beerpi.protocol.access import check_token, open_links, read_token, token_path_for


def main(argv: Sequence[str] | None = None, prog: str = "beerpi token") -> int:
    config = parse_config(argv, prog=prog, description=__doc__.split("\n\n")[0])
    try:
        if config.token:
            token = check_token(config.token, "--token (BEERPI_TOKEN)")
        else:
            path = Path(config.token_file) if config.token_file else token_path_for(config.db)
            if not path.exists():
                print(f"{prog}: error: no token yet at {path}: BeerPi creates it at its first start "
                      "(or give the same --db/--token-file as the server)", file=sys.stderr)
                return 1
            token = read_token(path)
    except BeerPiError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    print(token)
    for link in open_links(config.host, config.port, token):
        print(f"open {link}", file=sys.stderr)
    return 0
