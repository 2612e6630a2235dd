#!/usr/bin/env bash
# Install BeerPi as a systemd service: `sudo make install`. Idempotent: run it again to update.
# Undo with `sudo make uninstall`. Nothing is installed into the system's Python: BeerPi gets
# its own virtual environment under $PREFIX, so Raspberry Pi OS's "externally managed" Python
# is left alone. Where it goes: deploy/places.sh.
set -euo pipefail

. "$(dirname "$0")/places.sh"
# The system's Python by default: the service cannot see a Python installed under a home
# directory (pyenv, conda), as the unit's ProtectHome= hides /home and /root from it.
PYTHON=${PYTHON:-/usr/bin/python3}
SRC=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'beerpi install: %s\n' "$*"; }
fail() { printf 'beerpi install: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "installing a service needs root: run 'sudo make install'"
command -v "${SYSTEMCTL%% *}" >/dev/null || fail "systemd's systemctl is not here: BeerPi installs as a systemd service"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || fail "BeerPi needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || fail "install python3-venv first: sudo apt install python3-venv"
hidden_from_service() {  # a path under a directory the unit's ProtectHome=yes makes unreachable
  for hidden in /home /root /run/user; do
    case "$1" in "$hidden"/*) return 0 ;; esac
  done
  return 1
}
for path in "$(command -v "$PYTHON")" "$(readlink -f "$(command -v "$PYTHON")")"; do
  hidden_from_service "$path" && fail "$PYTHON is $path, which the service cannot reach (the unit's ProtectHome=yes hides /home and /root): use the system's Python, PYTHON=/usr/bin/python3"
done

# A system user that may drive GPIO pins, without a login or a home of its own.
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  say "created the system user $SERVICE_USER"
fi
if getent group gpio >/dev/null; then
  usermod -a -G gpio "$SERVICE_USER"
else
  say "no gpio group on this machine (not Raspberry Pi OS?): $SERVICE_USER can drive no GPIO pin"
fi
if getent group bluetooth >/dev/null; then
  usermod -a -G bluetooth "$SERVICE_USER"   # BlueZ lets the bluetooth group scan: Tilts (--tilt)
fi

# The code, copied whole so that files removed upstream are removed here too.
install -d -m 0755 "$PREFIX"
rm -rf "$PREFIX/src.new"
mkdir "$PREFIX/src.new"
tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./data --exclude='*/__pycache__' \
    --exclude='./*.egg-info' -cf - . | tar -C "$PREFIX/src.new" -xf -
rm -rf "$PREFIX/src.old"
[ -d "$PREFIX/src" ] && mv "$PREFIX/src" "$PREFIX/src.old"
mv "$PREFIX/src.new" "$PREFIX/src"
rm -rf "$PREFIX/src.old"
chmod -R go-w "$PREFIX/src"

# Its own virtual environment (the system's Python stays untouched). EXTRAS=mongo,tilt adds
# the Bluetooth library for Tilt hydrometers.
EXTRAS=${EXTRAS:-mongo}
if grep -qs "Raspberry Pi" /proc/device-tree/model; then EXTRAS="$EXTRAS,pi"; fi
# A venv made earlier from a Python the service cannot reach is made again.
if [ -e "$PREFIX/venv/bin/python" ] && hidden_from_service "$(readlink -f "$PREFIX/venv/bin/python")"; then
  rm -rf "$PREFIX/venv"
fi
[ -x "$PREFIX/venv/bin/python" ] || "$PYTHON" -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$PREFIX/src[$EXTRAS]"
"$PREFIX/venv/bin/python" -m beerpi.cli.vendor   # D3 for the dashboard (kept if already fetched)

# Data: only the service's user may read it (the token is there).
install -d -m 0700 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE"

# Configuration: written once, never overwritten (your edits stay).
install -d -m 0755 "$CONF"
if [ ! -e "$CONF/beerpi.env" ]; then
  install -m 0640 -g "$SERVICE_USER" /dev/null "$CONF/beerpi.env"
  cat > "$CONF/beerpi.env" <<ENV
# BeerPi's options as BEERPI_* variables (beerpi serve --help lists them all).
# After a change: sudo systemctl restart beerpi
BEERPI_HOST=0.0.0.0
BEERPI_PORT=8888
BEERPI_DB=sqlite:///$STATE/beerpi.sqlite3
BEERPI_HARDWARE=auto
# One chamber from flags (BCM pin numbers):
BEERPI_HEATER_PIN=17
#BEERPI_ACTIVE_LOW=true
#BEERPI_COOLER_PIN=27
# Or several chambers from a file (then leave the pin options above out):
#BEERPI_CONFIG=$CONF/beerpi.toml
ENV
  say "wrote $CONF/beerpi.env: set your relay pins there"
fi
install -m 0644 "$SRC/examples/two-chambers.toml" "$CONF/beerpi.toml.example"

# The unit, the command, and systemd told about them.
install -d "$UNIT_DIR"
sed -e "s#@PREFIX@#$PREFIX#g; s#@STATE@#$STATE#g; s#@CONF@#$CONF#g; s#@USER@#$SERVICE_USER#g" \
    "$SRC/deploy/beerpi.service.in" > "$UNIT_DIR/beerpi.service.new"
chmod 0644 "$UNIT_DIR/beerpi.service.new"
mv "$UNIT_DIR/beerpi.service.new" "$UNIT_DIR/beerpi.service"
install -d "$BIN_DIR"
cat > "$BIN_DIR/beerpi.new" <<WRAPPER
#!/bin/sh
# The beerpi command with the service's options ($CONF/beerpi.env), e.g. sudo beerpi token
set -a
[ -r "$CONF/beerpi.env" ] && . "$CONF/beerpi.env"
set +a
exec "$PREFIX/venv/bin/beerpi" "\$@"
WRAPPER
chmod 0755 "$BIN_DIR/beerpi.new"
mv "$BIN_DIR/beerpi.new" "$BIN_DIR/beerpi"
$SYSTEMCTL daemon-reload
$SYSTEMCTL enable beerpi.service >/dev/null 2>&1 || $SYSTEMCTL enable beerpi.service

say "installed. Next:"
say "  1. set the relay pins in $CONF/beerpi.env (and read 'Relays at boot' in the README)"
say "  2. sudo systemctl restart beerpi      (it also starts at every boot)"
say "  3. sudo beerpi token                  (prints the token and the link to open)"
say "  logs: journalctl -u beerpi -f"
