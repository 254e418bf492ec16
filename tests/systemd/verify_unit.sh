#!/bin/sh
# verify_unit.sh UNIT BINARY [DROPIN] - systemd-analyze verify of the
# configured unit, and of the unit with the drop-in DROPIN (netns.conf).
#
# verify insists that ExecStart= names an existing executable, and the unit
# names the installed path; so check a copy in which the installed path is
# replaced by the build's binary. verify reads drop-ins from the
# UNIT.service.d directory beside the copy, as systemd does. Also prints the
# offline security score of each (the authoritative one is measured under a
# running systemd: test_service.py, test_netns_all.py).
set -eu
unit=$1 binary=$2 dropin=${3:-}

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
installed=$(sed -n 's|^ExecStart=\(/[^ ]*\).*|\1|p' "$unit")
[ -n "$installed" ] || { echo "FAIL: no ExecStart= in $unit" >&2; exit 1; }
sed "s|$installed|$binary|g" "$unit" > "$dir/tcpstated.service"

# verify WHAT: systemd-analyze verify of the copy, which must print nothing.
verify() {
    # --man=no: the man pages are installed, not on the build host's MANPATH.
    out=$(systemd-analyze verify --man=no "$dir/tcpstated.service" 2>&1) || {
        echo "$out" >&2; echo "FAIL: systemd-analyze verify $1" >&2; exit 1; }
    if [ -n "$out" ]; then
        echo "$out" >&2; echo "FAIL: systemd-analyze verify $1 printed warnings" >&2; exit 1
    fi
    echo "verify $1: OK"
}

# security: the offline assessment of the copy, as it stands.
security() {
    systemd-analyze security --offline=true "$dir/tcpstated.service" 2>&1
}

verify "the unit"
base=$(security)
echo "$base" | tail -1
[ -n "$dropin" ] || exit 0

mkdir "$dir/tcpstated.service.d"
cp "$dropin" "$dir/tcpstated.service.d/"
verify "the unit with $(basename "$dropin")"
with=$(security)
echo "$with" | tail -1
# That the drop-in was read at all: it grants the two capabilities, which
# the unit alone does not.
for cap in CAP_SYS_ADMIN CAP_SYS_PTRACE; do
    if echo "$base" | grep -q "^✗ CapabilityBoundingSet=~$cap "; then
        echo "FAIL: the unit alone has $cap" >&2; exit 1
    fi
    if ! echo "$with" | grep -q "^✗ CapabilityBoundingSet=~$cap "; then
        echo "FAIL: $(basename "$dropin") was not applied: no $cap" >&2; exit 1
    fi
done
