#!/usr/bin/env bash
# Remove the BeerPi service: `sudo make uninstall`. The data ($STATE) and the configuration
# ($CONF) are kept unless PURGE=1; the relays are released OFF first.
set -euo pipefail

. "$(dirname "$0")/places.sh"

say() { printf 'beerpi uninstall: %s\n' "$*"; }
[ "$(id -u)" = 0 ] || { echo "beerpi uninstall: error: run 'sudo make uninstall'" >&2; exit 1; }

if [ -e "$UNIT_DIR/beerpi.service" ]; then
  $SYSTEMCTL disable --now beerpi.service >/dev/null 2>&1 || true   # ExecStopPost releases the relays
  rm -f "$UNIT_DIR/beerpi.service"
  $SYSTEMCTL daemon-reload || true
fi
rm -f "$BIN_DIR/beerpi"
rm -rf "$PREFIX"
if [ "${PURGE:-0}" = 1 ]; then
  rm -rf "$STATE" "$CONF"
  # Only the user the installer made (its home is the data directory), never another one.
  if [ "$(getent passwd "$SERVICE_USER" | cut -d: -f6)" = "$STATE" ]; then
    userdel "$SERVICE_USER" || true
  fi
  say "removed BeerPi, its data, its configuration and its user"
else
  say "removed BeerPi; kept the data in $STATE and the configuration in $CONF (PURGE=1 removes them)"
fi
