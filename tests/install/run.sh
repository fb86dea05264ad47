#!/usr/bin/env bash
# make install into a scratch DESTDIR: every file lands where the unit and the
# man pages say, the installed binary accepts the installed configuration, the
# unit names the installed binary, the man pages format without warnings, and
# systemd-analyze (where present) accepts the unit. Prints "install: N passed,
# M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "install: FAIL: $*" >&2; }

make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
for f in usr/sbin/iscsi-sparse-proxy lib/systemd/system/iscsi-sparse-proxy.service \
  usr/lib/sysusers.d/iscsi-sparse-proxy.conf usr/share/man/man8/iscsi-sparse-proxy.8 \
  usr/share/man/man5/iscsi-sparse-proxy.conf.5 etc/iscsi-sparse-proxy/iscsi-sparse-proxy.conf; do
  if [[ -f "$dest/$f" ]]; then ok; else bad "missing $f"; fi
done
if "$dest/usr/sbin/iscsi-sparse-proxy" --check-config \
  -c "$dest/etc/iscsi-sparse-proxy/iscsi-sparse-proxy.conf" >/dev/null; then ok
else bad "the installed binary rejects the installed configuration"; fi
unit=$dest/lib/systemd/system/iscsi-sparse-proxy.service
if grep -q '^ExecStart=/usr/sbin/iscsi-sparse-proxy -c /etc/iscsi-sparse-proxy/' "$unit" &&
  ! grep -q '@SBINDIR@' "$unit"; then ok; else bad "the unit does not name the installed binary"; fi
for opt in NoNewPrivileges=yes ProtectSystem=strict User=iscsi-sparse-proxy "ExecReload=/bin/kill -HUP"; do
  if grep -q "^$opt" "$unit"; then ok; else bad "the unit lacks $opt"; fi
done
for m in usr/share/man/man8/iscsi-sparse-proxy.8 usr/share/man/man5/iscsi-sparse-proxy.conf.5; do
  w=$(groff -man -ww -z "$dest/$m" 2>&1 || true)
  if [[ -z "$w" ]]; then ok; else bad "groff warns about $m: $w"; fi
done
# The configuration is not world-readable, the auth_file (secrets) owner-only,
# and the installed auth_file loads.
for fm in etc/iscsi-sparse-proxy/iscsi-sparse-proxy.conf:640 etc/iscsi-sparse-proxy/iscsi-sparse-proxy.auth:600; do
  if [[ $(stat -c %a "$dest/${fm%:*}" 2>/dev/null) == "${fm#*:}" ]]; then ok
  else bad "${fm%:*} is not mode ${fm#*:}"; fi
done
sed 's/^;auth_file = .*/auth_file = iscsi-sparse-proxy.auth/' \
  "$dest/etc/iscsi-sparse-proxy/iscsi-sparse-proxy.conf" >"$dest/etc/iscsi-sparse-proxy/with-auth.conf"
if "$dest/usr/sbin/iscsi-sparse-proxy" --check-config \
  -c "$dest/etc/iscsi-sparse-proxy/with-auth.conf" >/dev/null; then ok
else bad "the installed auth_file does not load"; fi
# A second install keeps an operator's configuration.
echo "; edited" >>"$dest/etc/iscsi-sparse-proxy/iscsi-sparse-proxy.conf"
make -s install DESTDIR="$dest" PREFIX=/usr >/dev/null
if grep -q '^; edited' "$dest/etc/iscsi-sparse-proxy/iscsi-sparse-proxy.conf"; then ok
else bad "make install overwrote an existing configuration"; fi
if command -v systemd-analyze >/dev/null 2>&1; then
  # Verify a copy whose paths point into the scratch tree (the real ones do not
  # exist on this machine); man pages are checked above.
  sed "s|/usr/sbin/|$dest/usr/sbin/|g" "$unit" >"$dest/iscsi-sparse-proxy.service"
  if out=$(systemd-analyze verify --man=no "$dest/iscsi-sparse-proxy.service" 2>&1); then ok
  else bad "systemd-analyze verify: $out"; fi
fi
echo "install: $passed passed, $failed failed"
((failed == 0))
