#!/usr/bin/env bash
# Golden-file tests of `BIN --check-config -c FILE` (in the style of bgpd -nv).
#   tests/conf/NAME.conf     input; bad-*.conf must fail with exit status 2,
#                            the others must pass with exit status 0
#   tests/conf/NAME.ok       expected stdout+stderr (a bad one: the error line)
#   tests/conf/*.auth        auth_files the configurations name; git keeps no
#                            permission bits, so they are made mode 600 here,
#                            except bad-auth-mode.auth (644, to be refused)
# A good config's output must itself pass and print the same again (with the
# auth_files beside it), and the shipped ./iscsi-sparse-proxy.conf must pass.
# Runs from the repo top so messages hold relative paths (tests/conf/x.conf).
# Usage: tests/conf/run.sh BIN
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 BIN" >&2
    exit 64
fi
bin=$1
case $bin in
    */*) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;;
esac
cd "$(dirname "$0")/../.." || exit 1

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
chmod 600 tests/conf/*.auth && chmod 644 tests/conf/bad-auth-mode.auth || exit 1
cp -p tests/conf/*.auth "$tmp"/ || exit 1
passed=0 failed=0

fail() {
    echo "FAILED: $1: $2"
    failed=$((failed + 1))
}

for conf in tests/conf/*.conf; do
    name=${conf%.conf}
    case $(basename "$conf") in
        bad-*) want=2 ;;
        *) want=0 ;;
    esac
    "$bin" --check-config -c "$conf" >"$tmp/out" 2>&1
    rc=$?
    if [ ! -f "$name.ok" ]; then
        fail "$conf" "no $name.ok"
        continue
    fi
    if [ "$rc" -ne "$want" ]; then
        fail "$conf" "exit status $rc, expected $want"
        cat "$tmp/out"
        continue
    fi
    if ! diff -u "$name.ok" "$tmp/out"; then
        fail "$conf" "output differs from $name.ok"
        continue
    fi
    if [ "$want" -eq 0 ]; then
        cp "$tmp/out" "$tmp/again.conf"
        "$bin" --check-config -c "$tmp/again.conf" >"$tmp/out2" 2>&1
        rc=$?
        if [ "$rc" -ne 0 ] || ! diff -u "$tmp/out" "$tmp/out2"; then
            fail "$conf" "printed configuration does not read back the same (exit status $rc)"
            continue
        fi
    fi
    passed=$((passed + 1))
done

"$bin" --check-config -c iscsi-sparse-proxy.conf >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
else
    fail iscsi-sparse-proxy.conf "exit status $rc"
    cat "$tmp/out"
fi

echo "conf: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
