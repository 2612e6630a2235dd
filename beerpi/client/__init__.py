"""A small BeerPi client on the ``websockets`` library: ``python -m beerpi.client --help``.

It doubles as the example for writing a client: ``session.py`` connects with the token,
reads ``hello`` and matches a request to its reply; ``watch.py`` keeps a connection and
reconnects; the other modules parse what a user types and print what the server sends.
"""
