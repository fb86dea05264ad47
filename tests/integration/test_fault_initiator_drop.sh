#!/usr/bin/env bash
# Initiators that drop their connection in the middle of a WRITE (issue 12):
# fault_drop.py opens 48 connections one after the other, each starting a 256 KiB
# WRITE and closing (FIN, or RST) after the command alone, in the middle of a
# PDU, in the unsolicited data, in the data an R2T asked for, or after all the
# data but before the status. Meanwhile another initiator writes without pause
# (fault_io.py, 4 WRITEs in flight). Fails if:
#   - the proxy dies, logs an error, or keeps a file descriptor, a frontend
#     connection or a backend session (at tgtd) of a dropped connection once
#     things settle (bounded waits);
#   - the other initiator loses its session or stops making progress, or one
#     of its acknowledged WRITEs is not in the backing file byte for byte;
#   - a slot of a WRITE whose data never all arrived holds anything but its old
#     bytes, or a slot whose data all arrived holds other than old or new, whole;
#   - the regions read through the proxy differ from the backing file.
# Direct mode runs the same against tgtd (its file descriptors, its sessions).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_setup_cache exclusive
here=$(dirname "$0")
M=$((1 << 20))
W_OFF=$((140 * M)) W_LEN=$((16 * M))          # the other initiator's slots
D_OFF=$((160 * M)) N=48 D_LEN=$((48 * 256 * 1024))
for r in "$W_OFF $W_LEN" "$D_OFF $D_LEN"; do
  # shellcheck disable=SC2086
  isp_is_hole_pages "$ISP_IMG" $r 65536 || isp_fail "test layout: [$r] is not a hole"
done
dd if="$ISP_IMG" of="$ISP_WORK/w.before" bs=1M skip=$((W_OFF / M)) count=$((W_LEN / M)) status=none
dd if="$ISP_IMG" of="$ISP_WORK/d.before" bs=1M skip=$((D_OFF / M)) count=$((D_LEN / M)) status=none
io() { python3 "$here/fault_io.py" "$@" --lba $((W_OFF / 512)) --blocks 16 --slots $((W_LEN / 8192)); }
if ((ISP_DIRECT)); then P=$TGT_PID what=tgtd; else P=$PROXY_PID what=proxy; fi
# tgt_sessions INITIATOR: sessions of INITIATOR at tgtd (through the proxy: backend sessions).
tgt_sessions() { isp_tgtadm --op show --mode conn --tid 1 | grep -c "Initiator: $1\$" || true; }

idle_fds=$(isp_fd_count "$P")
io write 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR" "$ISP_WORK/w.log" --qd 4 \
  --stop "$ISP_WORK/stop" >"$ISP_WORK/w.out" 2>&1 &
wpid=$!
isp_on_exit "touch $ISP_WORK/stop"
isp_wait_output "$ISP_WORK/w.out" "done 100" "$wpid" "the other initiator did not get 100 WRITEs done"
busy_fds=$(isp_fd_count "$P")

isp_timeout 120 python3 "$here/fault_drop.py" 127.0.0.1 "$PROXY_PORT" "$PROXY_IQN" "$ISP_INITIATOR2" \
  $((D_OFF / 512)) "$N" >"$ISP_WORK/d.out" 2>&1 || { cat "$ISP_WORK/d.out" >&2; isp_fail "the dropping initiator failed"; }
((ISP_DIRECT)) || isp_proxy_alive "after $N dropped WRITEs"
isp_alive "$wpid" || { cat "$ISP_WORK/w.out" >&2; isp_fail "the other initiator ended while the others dropped"; }
done_at=$(grep -c '^A ' "$ISP_WORK/w.log" || true)

# Settle: the dropped connections' descriptors and sessions go, on both sides.
fds=$(isp_wait_fds "$P" "$busy_fds" 15) ||
  isp_fail "$what keeps $((fds - busy_fds)) more file descriptors 15 s after the drops ($busy_fds before, $fds now)"
deadline=$((SECONDS + 15))
while (($(tgt_sessions "$ISP_INITIATOR2") > 0)); do
  ((SECONDS < deadline)) || isp_fail "tgtd still has a session of a dropped initiator 15 s after the drops"
  sleep 0.1
done
if ((!ISP_DIRECT)); then
  n=$(isp_wait_stat "$STATS_PORT" connections -eq 1 15) ||
    isp_fail "the proxy counts $n connections 15 s after the drops, expected 1 (the other initiator)"
fi
python3 "$here/fault_drop.py" check "$ISP_IMG" "$ISP_WORK/d.before" $((D_OFF / 512)) "$ISP_WORK/d.out" \
  >"$ISP_WORK/d.check" 2>&1 || { cat "$ISP_WORK/d.check" >&2; isp_fail "a dropped WRITE left the wrong data"; }
echo "## $N connections dropped mid-WRITE: $(sed -n 's/^ok: //p' "$ISP_WORK/d.check") (slot: outcome)"

# The other initiator went on the whole time, and still does.
deadline=$((SECONDS + 10))
until (($(grep -c '^A ' "$ISP_WORK/w.log" || true) > done_at + 50)); do
  ((SECONDS < deadline)) || isp_fail "the other initiator made no progress after the drops"
  isp_alive "$wpid" || break
  sleep 0.05
done
touch "$ISP_WORK/stop"
isp_wait_gone "$wpid" 30 || isp_fail "the other initiator did not stop"
isp_reap_into rc "$wpid"
((rc == 0)) || { cat "$ISP_WORK/w.out" >&2; isp_fail "the other initiator failed (exit $rc)"; }
io verify "$ISP_IMG" "$ISP_WORK/w.log" --before "$ISP_WORK/w.before" >"$ISP_WORK/w.check" 2>&1 ||
  { cat "$ISP_WORK/w.check" >&2; isp_fail "an acknowledged WRITE of the other initiator is not in the file"; }
echo "## the other initiator: $(sed -n 's/^ok: //p' "$ISP_WORK/w.out")"

fds=$(isp_wait_fds "$P" "$idle_fds" 15) ||
  isp_fail "$what keeps $((fds - idle_fds)) file descriptors 15 s after every initiator left ($idle_fds idle, $fds now)"
for r in "$W_OFF $W_LEN w" "$D_OFF $D_LEN d"; do
  read -r off len tag <<<"$r"
  isp_read_range "$URL_PROXY" "$off" "$len" "$ISP_WORK/$tag.raw"
  cmp -s "$ISP_WORK/$tag.raw" <(dd if="$ISP_IMG" bs=1M skip=$((off / M)) count=$((len / M)) status=none) ||
    isp_fail "[$off, +$len) read back differs from the backing file"
done
echo "## $what: $idle_fds file descriptors idle, $busy_fds with one initiator, back to $fds after the drops; regions read back as the file holds them"
if ((!ISP_DIRECT)); then
  n=$(isp_wait_stat "$STATS_PORT" connections -eq 0 10) || isp_fail "the proxy still counts $n connections"
  errs=$(isp_proxy_log_errors "$PROXY_LOG")
  [[ -z "$errs" ]] || isp_fail "the proxy logged errors: $errs"
fi
