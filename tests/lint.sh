#!/usr/bin/env bash
# Bans libc calls that have no bounds or no error report, and keeps the pure
# layers pure: a file the Makefile links into unit tests and fuzzers (not a
# daemon file) includes neither the event loop, nor libiscsi, nor a daemon
# header (see docs/ARCHITECTURE.md, "Layers").
set -u
cd "$(dirname "$0")/.."
status=0
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)\s*\(' \
      proxy/*.c proxy/*.h scsi/*.c scsi/*.h conf/*.c conf/*.h 2>/dev/null)
if [ -n "$bad" ]; then
  echo "lint: banned calls:"; echo "$bad"; status=1
fi
# The daemon's files, as the Makefile's DAEMON_SRCS patterns name them.
is_daemon() {
  case "$1" in
    proxy/conn*|proxy/session*|proxy/task*|proxy/backend*|proxy/lun*|proxy/server*|\
    proxy/stats*|proxy/health*|proxy/dashboard*|proxy/main.c) return 0 ;;
  esac
  return 1
}
daemon_headers=$(for f in proxy/*.h; do is_daemon "$f" && basename "$f"; done | paste -sd'|')
for f in proxy/*.c proxy/*.h scsi/*.c scsi/*.h conf/*.c conf/*.h; do
  is_daemon "$f" && continue
  hit=$(grep -nE "#include\s*[<\"](event2/|iscsi/|(${daemon_headers})\")" "$f")
  if [ -n "$hit" ]; then
    echo "lint: pure file $f includes the event loop, libiscsi or a daemon header:"
    echo "$hit"; status=1
  fi
done
[ $status -eq 0 ] && echo "lint: ok"
exit $status
