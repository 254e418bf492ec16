#!/bin/sh
# verify_unit.sh UNIT BINARY - systemd-analyze verify of the configured unit.
#
# verify insists that ExecStart= names an existing executable, and the unit
# names the installed path; so check a copy in which the installed path is
# replaced by the build's binary. Also prints the offline security score
# (the authoritative one is measured under a running systemd, test_service.py).
set -eu
unit=$1 binary=$2

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
installed=$(sed -n 's|^ExecStart=\(/[^ ]*\).*|\1|p' "$unit")
[ -n "$installed" ] || { echo "FAIL: no ExecStart= in $unit" >&2; exit 1; }
sed "s|$installed|$binary|g" "$unit" > "$dir/tcpstated.service"

# --man=no: the man pages are installed, not on the build host's MANPATH.
out=$(systemd-analyze verify --man=no "$dir/tcpstated.service" 2>&1) || {
    echo "$out" >&2; echo "FAIL: systemd-analyze verify" >&2; exit 1; }
if [ -n "$out" ]; then
    echo "$out" >&2; echo "FAIL: systemd-analyze verify printed warnings" >&2; exit 1
fi
echo "verify: OK"
systemd-analyze security --offline=true "$dir/tcpstated.service" 2>&1 | tail -1
