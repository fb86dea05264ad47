#!/usr/bin/env bash
# Bans libc calls that have no bounds or no error report, and keeps the pure
# layers pure: a file outside proxy/daemon/ (linked into unit tests and
# fuzzers) includes neither the event loop, nor libiscsi, nor a daemon header
# (see docs/ARCHITECTURE.md, "Layers").
set -u
cd "$(dirname "$0")/.."
status=0
pure="proxy/protocol proxy/cache proxy/util scsi conf"
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)\s*\(' \
      proxy/*/*.[ch] scsi/*.[ch] conf/*.[ch] 2>/dev/null)
if [ -n "$bad" ]; then
  echo "lint: banned calls:"; echo "$bad"; status=1
fi
daemon_headers=$(cd proxy/daemon && ls ./*.h | sed 's|^\./||' | paste -sd'|')
for d in $pure; do
  for f in "$d"/*.[ch]; do
    hit=$(grep -nE "#include\s*[<\"](event2/|iscsi/|(${daemon_headers})\")" "$f")
    if [ -n "$hit" ]; then
      echo "lint: pure file $f includes the event loop, libiscsi or a daemon header:"
      echo "$hit"; status=1
    fi
  done
done
[ $status -eq 0 ] && echo "lint: ok"
exit $status
