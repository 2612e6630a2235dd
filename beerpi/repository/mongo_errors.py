"""pymongo's errors in words: what failed, and what to check (the URL, mongod, its load)."""

from __future__ import annotations

from pymongo.errors import ConnectionFailure, NetworkTimeout, OperationFailure, PyMongoError

from beerpi.base.errors import StorageError

AUTH_CODES = {13, 18}  # Unauthorized, AuthenticationFailed


def storage_error(exc: PyMongoError, what: str, where: str, timeout_ms: int) -> StorageError:
    """``exc``, met while ``what``, as BeerPi's StorageError saying what to check."""
    detail = str(exc).split("Topology Description")[0].strip(" ,")[:300]
    if isinstance(exc, NetworkTimeout):
        message = (f"MongoDB at {where} did not answer in time while {what} ({detail}): "
                   "check the server's load and the network, or raise socketTimeoutMS in the --db URL")
    elif isinstance(exc, ConnectionFailure):
        message = (f"cannot reach MongoDB at {where} (gave up after serverSelectionTimeoutMS="
                   f"{timeout_ms} ms) while {what}: check that mongod is running and reachable "
                   f"from here, and the host and port in the --db URL ({detail})")
    elif isinstance(exc, OperationFailure) and exc.code in AUTH_CODES:
        message = (f"MongoDB at {where} refused {what} ({detail}): check the user, password "
                   "and roles given in the --db URL")
    else:
        message = f"MongoDB at {where} failed while {what}: {detail}"
    return StorageError(message)
