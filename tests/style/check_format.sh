#!/bin/sh
# check_format.sh SOURCE_DIR - every C file of the tree (src, include, tests,
# bench) is as its .clang-format would write it. Prints each file that is not,
# with the first lines clang-format would change, and fails.
set -eu
cd "$1"
command -v clang-format >/dev/null || { echo "FAIL: clang-format not found (install clang-format)"; exit 1; }
fail=0
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find src include tests bench -name '*.[ch]'); do
    if ! clang-format --dry-run --Werror "$f" 2>/dev/null; then
        echo "FAIL: $f is not formatted (clang-format -i $f):"
        clang-format "$f" | diff "$f" - | head -n 12
        fail=1
    fi
done
[ $fail -eq 0 ] && echo "OK: every C file matches .clang-format"
exit $fail
