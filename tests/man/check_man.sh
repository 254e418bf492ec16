#!/bin/sh
# check_man.sh DOCDIR PAGE8 PAGE5 - the configured man pages render without
# a warning and say what they must: tcpstated(8) the destroy notifications,
# the summaries and `how`; tcpstated.conf(5) --netns among the options that
# override the file; both record-format.md by its installed path.
set -eu
docdir=$1 page8=$2 page5=$3

command -v man >/dev/null || { echo "FAIL: man not found (install man-db)"; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0

# Renders PAGE into $dir/out as one line of ASCII (words joined across line
# breaks); any warning of groff or man is a failure.
render() {
    LC_ALL=C MANWIDTH=80 man --warnings -l "$1" >"$dir/raw" 2>"$dir/err" || {
        echo "FAIL: man -l $1 exited $?"; fail=1; }
    if [ -s "$dir/err" ]; then
        echo "FAIL: warnings rendering $1:"; cat "$dir/err"; fail=1
    fi
    tr -s ' \n' '  ' <"$dir/raw" >"$dir/out"
}

# Fails unless the rendered page holds TEXT.
want() {
    grep -qF -- "$1" "$dir/out" || { echo "FAIL: $page does not say: $1"; fail=1; }
}

for page in "$page8" "$page5"; do
    render "$page"
    if grep -q '@[A-Z_]*@' "$dir/raw"; then
        echo "FAIL: $page has an unconfigured @VARIABLE@"; fail=1
    fi
    want "$docdir/record-format.md"
    case $page in
    "$page8")
        want "Destroy notifications Besides polling"
        want "How a transition was seen"
        want "initial The socket was there when tcpstated started"
        want "destroy A destroy notification told it"
        want "Summaries When a connection's full socket is destroyed"
        want "$docdir/systemd.md"
        ;;
    "$page5")
        want "(--interval-ms, --log-file, --format, --netns) override the file"
        ;;
    esac
done
[ "$fail" = 0 ] && echo "man pages: OK"
exit "$fail"
