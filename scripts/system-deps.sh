#!/bin/sh
# Install the Debian packages Switchboard needs when they are missing: PostgreSQL server
# binaries (for the embedded workspace and the test server) and tmux (terminal-level tests).
set -e
missing=""
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
    || missing="$missing postgresql postgresql-contrib"
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
command -v runuser >/dev/null 2>&1 || missing="$missing util-linux"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "switchboard: please install:$missing (Debian/Ubuntu: apt-get install$missing)" >&2
    exit 1
fi
echo "Installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
