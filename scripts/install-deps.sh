#!/bin/sh
# Install (or check) the Debian 12 packages stratsim needs to build and test.
#   scripts/install-deps.sh                   install them (root), idempotent
#   scripts/install-deps.sh --check-or-install  do nothing if all are present;
#                                             install them as root; otherwise
#                                             print the exact command and fail
set -eu
# gnuplot-nox is optional at run time (`stratsim plot`); the setup installs it.
# locales: localedef data for the German-locale test (tests/cli/test_cli.sh).
# libopenmpi-dev, openmpi-bin: MPI scale-out of the analysis verbs (docs/scale-out.md).
PKGS="build-essential pkg-config liblua5.4-dev libgsl-dev libcjson-dev libxlsxwriter-dev libcmocka-dev libedit-dev libsleef-dev lua5.4 python3 gnuplot-nox locales libopenmpi-dev openmpi-bin"
missing() {
    for p in $PKGS; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}
need=$(missing || true)
if [ -z "$need" ]; then
    exit 0
fi
if [ "${1:-}" = "--check-or-install" ] && [ "$(id -u)" != 0 ]; then
    echo "stratsim: missing packages:" $need >&2
    echo "install them with: sudo apt-get install -y $PKGS" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "stratsim: run as root or: sudo apt-get install -y $PKGS" >&2
    exit 1
fi
echo "stratsim: installing" $need >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $need >/dev/null
