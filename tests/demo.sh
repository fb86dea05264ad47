#!/usr/bin/env bash
# make demo: a local tgtd on 127.0.0.1:3261 with a 1 GiB thin LUN (a small ext4
# filesystem with some files, most of the LUN unallocated), and the proxy in
# front of it on 127.0.0.1:3260 (stats on 127.0.0.1:9100). Runs until Ctrl-C,
# then stops both by PID and removes its temporary files.
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 PROXY_BIN" >&2
  exit 2
fi
PROXY_BIN=$1
[[ -x "$PROXY_BIN" ]] || { echo "demo: $PROXY_BIN is not an executable (run make first)" >&2; exit 2; }
ISP_SIGNAL_OK=1     # Ctrl-C is how the demo ends
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/integration/lib.sh"

FRONT_PORT=3260 BACK_PORT=3261 STATS=127.0.0.1:9100
LUN_SIZE=$((1 << 30))

if [[ $(id -u) -ne 0 ]]; then
  echo "demo: needs root (tgtd keeps its control socket in /var/run/tgtd); try: sudo make demo" >&2
  exit 1
fi
isp_require_root
busy=0
for p in $FRONT_PORT $BACK_PORT; do
  if ! isp_port_free "$p"; then
    echo "demo: TCP port $p is already in use; the demo needs 3260 (proxy) and 3261 (tgtd) free:" >&2
    ss -Htanp "sport = :$p" >&2 || true
    busy=1
  fi
done
((busy == 0)) || exit 1
if [[ -e /var/run/tgtd/socket.$BACK_PORT ]] && ! isp_port_free "$BACK_PORT"; then
  echo "demo: a tgtd already uses control socket /var/run/tgtd/socket.$BACK_PORT" >&2
  exit 1
fi
if ! isp_port_free 9100; then
  echo "demo: port 9100 is in use: running without the stats endpoint" >&2
  STATS=""
fi

isp_start_tgtd "$BACK_PORT"
ISP_IMG=$ISP_WORK/demo-lun.img
isp_make_fs_image "$ISP_IMG" "$LUN_SIZE"
isp_tgt_add_target 1 "$BACKEND_IQN" "$ISP_IMG"

# The proxy may not know stats_listen yet: fall back to none rather than fail.
isp_write_proxy_conf "$ISP_WORK/check.conf" "$FRONT_PORT" "$STATS" "$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN"
if [[ -n "$STATS" ]] && ! "$PROXY_BIN" --check-config -c "$ISP_WORK/check.conf" >"$ISP_WORK/check.log" 2>&1; then
  echo "demo: the proxy rejects stats_listen = $STATS; running without stats:" >&2
  sed 's/^/    /' "$ISP_WORK/check.log" >&2
  STATS=""
fi
isp_start_proxy "$FRONT_PORT" "$STATS" "$ISP_PROXY_IQN_DEFAULT" "$BACKEND_IQN"

stats_line="(off)"
if [[ -n "$STATS" ]]; then
  stats_line="http://$STATS/metrics"
  deadline=$((SECONDS + 3))
  until isp_listening "${STATS##*:}" "$PROXY_PID"; do
    if ((SECONDS >= deadline)); then
      stats_line="$stats_line (configured, but the proxy does not serve it yet)"
      break
    fi
    sleep 0.1
  done
fi
URL=iscsi://127.0.0.1:$FRONT_PORT/$ISP_PROXY_IQN_DEFAULT/$ISP_LUN
DURL=iscsi://127.0.0.1:$BACK_PORT/$BACKEND_IQN/$ISP_LUN
alloc=$(du -k "$ISP_IMG" | cut -f1)
cat <<INFO

  iscsi-sparse-proxy demo
  -----------------------
  proxy    127.0.0.1:$FRONT_PORT   pid $PROXY_PID   target $ISP_PROXY_IQN_DEFAULT
  tgtd     127.0.0.1:$BACK_PORT   pid $TGT_PID   target $BACKEND_IQN (control socket.$BACK_PORT)
  LUN $ISP_LUN: 1 GiB thin (LBPME=1, LBPRZ=1), ext4 in its first $((ISP_FS_SIZE_K / 1024)) MiB,
         $((alloc / 1024)) MiB of it allocated; backing file $ISP_IMG
  stats    $stats_line
  proxy log: $PROXY_LOG

  LUN URL:  $URL
  (directly at tgtd, for comparison: $DURL)

  Try:
    iscsi-ls -i $ISP_INITIATOR -s iscsi://127.0.0.1:$FRONT_PORT
    iscsi-inq -i $ISP_INITIATOR $URL
    iscsi-inq -i $ISP_INITIATOR -e 1 -c 178 $URL      # VPD 0xb2 (decimal page code)
    iscsi-readcapacity16 -i $ISP_INITIATOR $URL
    qemu-img map --output=json $URL
    qemu-img convert -p -O raw $URL /tmp/demo-copy.raw
    qemu-img dd bs=1M if=$URL of=/tmp/demo-dd.raw
    iscsi-perf -i $ISP_INITIATOR -t 5 -m 32 -b 2048 $URL
${STATS:+    curl -s http://$STATS/metrics
}    tail -f $PROXY_LOG

  Ctrl-C stops the proxy and tgtd and removes $ISP_WORK.
INFO

rc=0
wait "$PROXY_PID" || rc=$?
echo "demo: the proxy exited by itself (status $rc); last lines of its log:" >&2
tail -n 20 "$PROXY_LOG" >&2
exit 1
