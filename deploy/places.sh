# Where `make install` puts BeerPi, shared by install.sh and uninstall.sh. Each can be changed
# through the environment of `make install` / `make uninstall`:
#   PREFIX=/opt/beerpi        the code ($PREFIX/src) and its virtual environment ($PREFIX/venv)
#   STATE=/var/lib/beerpi     the database, the spool and the token (mode 0700)
#   CONF=/etc/beerpi          beerpi.env (the options) and the chamber configuration
#   UNIT_DIR, BIN_DIR         where the systemd unit and the beerpi command go
#   BEERPI_USER=beerpi        the system user the service runs as
#   SYSTEMCTL=true            install the files without touching systemd
PREFIX=${PREFIX:-/opt/beerpi}
STATE=${STATE:-/var/lib/beerpi}
CONF=${CONF:-/etc/beerpi}
UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}
BIN_DIR=${BIN_DIR:-/usr/local/bin}
SERVICE_USER=${BEERPI_USER:-beerpi}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
