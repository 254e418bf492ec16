#!/bin/sh
# check_rules.sh SOURCE_DIR - the shipped alert rules: promtool check rules,
# then every test here (one file per alert) with promtool test rules. CI
# installs promtool (package prometheus, .ci/deps test); without it this
# fails rather than skips.
set -eu
src=$1
command -v promtool >/dev/null || { echo "promtool not found (install prometheus: .ci/deps test)"; exit 1; }
promtool check rules "$src/conf/tcpstated.rules.yml"
# Every alert of the file has a test file naming it.
for alert in $(sed -n 's/^ *- alert: *//p' "$src/conf/tcpstated.rules.yml"); do
    grep -l "alertname: $alert\$" "$src"/tests/rules/*.yml >/dev/null ||
        { echo "no test for $alert in tests/rules"; exit 1; }
done
cd "$src/tests/rules"
promtool test rules ./*.yml
