"""The MongoDB wire server of bench/fleet.py, in a process of its own (its own GIL, its own CPU figure).

    .venv/bin/python bench/fleet_db.py      # prints "listening on mongodb://127.0.0.1:PORT/", serves until stdin closes

SecantusDB (the dev extra the storage tests use), standalone and in memory: a MongoDB server
written in Python, so its figures are not a mongod's. bench/fleet.py ``--mongo URL`` uses a
real server instead.
"""

from __future__ import annotations

import sys


def main() -> None:
    import secantus
    with secantus.SecantusDBServer(host="127.0.0.1", port=0, storage_path=":memory:",
                                   replica_set_name=None) as server:
        print(f"listening on {server.uri}", flush=True)
        sys.stdin.read()  # until the bench closes it (or ends)


if __name__ == "__main__":
    main()
