#!/usr/bin/env bash
# Bans libc calls that have no bounds or no error report (see docs/ARCHITECTURE.md).
set -u
cd "$(dirname "$0")/.."
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)\s*\(' \
      proxy/*.c proxy/*.h scsi/*.c scsi/*.h conf/*.c conf/*.h 2>/dev/null)
if [ -n "$bad" ]; then
  echo "lint: banned calls:"; echo "$bad"; exit 1
fi
echo "lint: ok"
