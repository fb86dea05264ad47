#!/usr/bin/env bash
# Task attributes (issue 9, case 7): libiscsi sends every task to the backend
# SIMPLE, so the proxy keeps ORDERED and HEAD OF QUEUE itself. Our protocol
# client (task_attributes.py) pipelines WRITE, ORDERED READ, WRITE of the same
# 64 KiB in rounds: the READ must see the first WRITE and not the second, and
# complete between them; a HEAD OF QUEUE command behind the held ones
# completes. Through the proxy its debug log must show tasks it held and
# released (so the order was kept by the proxy, not by luck at tgtd). Direct
# mode runs the same rounds against tgtd and only reports: tgt runs a
# session's tasks on its worker threads whatever their attribute, so an
# ORDERED READ there can overtake the WRITE before it (seen: it read neither
# WRITE's data) -- which is why the proxy keeps the order itself.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ISP_LOG_LEVEL=debug isp_setup_cache exclusive
ROUNDS=20 OFF=$((160 << 20))
rc=0
isp_timeout 120 python3 "$(dirname "$0")/task_attributes.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" \
  "$ISP_INITIATOR" $((OFF / 512)) "$ROUNDS" >"$ISP_WORK/rounds.out" 2>&1 || rc=$?
cat "$ISP_WORK/rounds.out" >&2
if ((ISP_DIRECT)); then
  echo "## tgtd directly: $( ((rc == 0)) && echo "ORDERED kept in $ROUNDS rounds" ||
    echo "ORDERED not kept ($(sed -n 's/^FAIL: //p' "$ISP_WORK/rounds.out" | head -n 1))")"
  exit 0
fi
((rc == 0)) || isp_fail "task attribute checks failed (see above)"
isp_proxy_alive "after the task attribute checks"
if ((!ISP_DIRECT)); then
  held=$(grep -c "released by the task order" "$PROXY_LOG" || true)
  ((held >= ROUNDS)) || isp_fail "the proxy released only $held held tasks in $ROUNDS rounds"
  echo "## $ROUNDS rounds of WRITE, ORDERED READ, WRITE pipelined: the proxy held and released $held tasks"
fi
isp_log "task attribute checks passed"
