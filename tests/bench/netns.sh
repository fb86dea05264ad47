# shellcheck shell=bash disable=SC2034
# (SC2034: variables are for the sourcing script)
# A private "SAN" for tests/bench/slow_san.sh: a network namespace joined to
# the host by one veth pair, shaped with tc, and a tgtd inside it.
#
#   . tests/integration/lib.sh
#   . tests/bench/netns.sh
#   isp_netns_create 1gbit          namespace + veth + addresses + shaping
#   isp_netns_start_tgtd            tgtd on $SAN_NS_ADDR:$SAN_TGT_PORT in it
#   isp_tgt_add_target ...          (lib.sh) now talks to that tgtd
#
# Addresses: a free /30 of 169.254.0.0/16 (link-local, never routed), one end
# on each side of the veth pair; nothing else is put in the namespace, so its
# traffic can only cross the pair. Everything is removed at exit: the tgtd by
# PID, then the namespace (its veth end, and with it the host end, go too).
# Bookkeeping is lib.sh's own: the tgtd is added to its tgtd list, so
# isp_tgtadm / isp_tgt_add_target work on it (tgtd's control socket is a
# filesystem path, /var/run/tgtd/socket.N, reachable from either namespace).
#
# After isp_netns_create:
#   SAN_NS                  namespace name (isp-san-PID)
#   SAN_HOST_IF SAN_NS_IF   veth ends (host side, namespace side)
#   SAN_HOST_ADDR SAN_NS_ADDR   their IPv4 addresses (/30)
# After isp_netns_start_tgtd:
#   SAN_TGT_PORT SAN_TGT_CTL SAN_TGT_PID SAN_TGT_LOG   (TGT_CTL is set too)

if [[ -n "${_ISP_NETNS_LOADED:-}" ]]; then return 0; fi
_ISP_NETNS_LOADED=1

SAN_NS="" SAN_HOST_IF="" SAN_NS_IF="" SAN_HOST_ADDR="" SAN_NS_ADDR=""
SAN_TGT_PID="" SAN_TGT_PORT=3260 SAN_TGT_CTL="" SAN_TGT_LOG=""
_ISP_SAN_TGT_IDX=""

# isp_netns_exec CMD...: run CMD inside our namespace.
isp_netns_exec() { ip netns exec "$SAN_NS" "$@"; }

# _isp_netns_free_net: print a /30 network a.b.c.d of 169.254.77-79.x that no
# interface and no route on the host uses yet (several runs may coexist).
_isp_netns_free_net() {
  local used c d
  used=$(ip -4 -o addr show; ip -4 route show table all)
  for c in 77 78 79; do
    for ((d = 0; d < 256; d += 4)); do
      grep -qE "169\.254\.$c\.($d|$((d + 1))|$((d + 2))|$((d + 3)))([^0-9]|$)" <<<"$used" && continue
      echo "169.254.$c.$d"
      return 0
    done
  done
  return 1
}

# isp_netns_shape IFACE RATE [ns]: token bucket on IFACE's egress (run inside
# the namespace when the third argument is "ns"). burst 256 KiB holds a few
# 64 KiB GSO packets at once; latency 5 ms bounds the queue (625 KB at 1 Gbit/s,
# about what a switch port buffers) so TCP sees a full pipe, not a bottomless one.
isp_netns_shape() {
  local ifc=$1 rate=$2 where=${3:-host}
  local cmd=(tc qdisc replace dev "$ifc" root tbf rate "$rate" burst 256kb latency 5ms)
  if [[ $where == ns ]]; then isp_netns_exec "${cmd[@]}"; else "${cmd[@]}"; fi
}

# isp_netns_create RATE: the namespace, the veth pair, addresses, both
# directions shaped to RATE (tc syntax: 1gbit). Registers the cleanup.
isp_netns_create() {
  local rate=$1 net
  command -v ip >/dev/null || isp_fail "ip not found (iproute2)"
  command -v tc >/dev/null || isp_fail "tc not found (iproute2)"
  net=$(_isp_netns_free_net) || isp_fail "no free /30 in 169.254.77-79.0/24"
  local base=${net%.*} last=${net##*.}
  SAN_HOST_ADDR=$base.$((last + 1)) SAN_NS_ADDR=$base.$((last + 2))
  SAN_NS=isp-san-$$ SAN_HOST_IF=isps$$h SAN_NS_IF=isps$$n
  isp_on_exit isp_netns_destroy
  ip netns add "$SAN_NS" || isp_fail "ip netns add $SAN_NS failed"
  ip link add "$SAN_HOST_IF" type veth peer name "$SAN_NS_IF" ||
    isp_fail "cannot create the veth pair $SAN_HOST_IF/$SAN_NS_IF"
  ip link set "$SAN_NS_IF" netns "$SAN_NS"
  ip addr add "$SAN_HOST_ADDR/30" dev "$SAN_HOST_IF"
  ip link set "$SAN_HOST_IF" up
  isp_netns_exec ip link set lo up
  isp_netns_exec ip addr add "$SAN_NS_ADDR/30" dev "$SAN_NS_IF"
  isp_netns_exec ip link set "$SAN_NS_IF" up
  isp_netns_shape "$SAN_HOST_IF" "$rate" host || isp_fail "tc tbf on $SAN_HOST_IF failed"
  isp_netns_shape "$SAN_NS_IF" "$rate" ns || isp_fail "tc tbf on $SAN_NS_IF failed"
  isp_log "namespace $SAN_NS: $SAN_HOST_IF $SAN_HOST_ADDR <-> $SAN_NS_IF $SAN_NS_ADDR, tbf $rate each way"
}

# isp_netns_counters: "RX TX" bytes of the host end of the veth pair (RX =
# from the SAN to the host).
isp_netns_counters() {
  local s=/sys/class/net/$SAN_HOST_IF/statistics
  echo "$(<"$s/rx_bytes") $(<"$s/tx_bytes")"
}

# isp_netns_start_tgtd: a tgtd inside the namespace on $SAN_NS_ADDR:3260,
# control socket /var/run/tgtd/socket.N with N picked like lib.sh does. It
# becomes lib.sh's current tgtd (TGT_CTL), so isp_tgt_add_target uses it.
isp_netns_start_tgtd() {
  local ctl pid log deadline
  isp_pick_port ctl
  log=$ISP_WORK/tgtd.san.$ctl.log
  [[ -e /var/run/tgtd/socket.$ctl ]] || _ISP_SOCKETS+=("/var/run/tgtd/socket.$ctl")
  # ip netns exec execs tgtd in its own process: $! is tgtd's PID.
  ip netns exec "$SAN_NS" tgtd -f -C "$ctl" --iscsi "portal=$SAN_NS_ADDR:$SAN_TGT_PORT" >"$log" 2>&1 &
  pid=$!
  _ISP_TGT_PIDS+=("$pid") _ISP_TGT_CTLS+=("$ctl") _ISP_TGT_TIDS+=("") _ISP_TGT_LOGS+=("$log")
  _ISP_TGT_CUR=$((${#_ISP_TGT_PIDS[@]} - 1)) _ISP_SAN_TGT_IDX=$_ISP_TGT_CUR
  SAN_TGT_PID=$pid SAN_TGT_CTL=$ctl SAN_TGT_LOG=$log TGT_CTL=$ctl
  deadline=$((SECONDS + 15))
  until isp_netns_exec ss -Htlnp "sport = :$SAN_TGT_PORT" 2>/dev/null | grep -q "pid=$pid," &&
    [[ -S /var/run/tgtd/socket.$ctl ]]; do
    if ! isp_alive "$pid" || ((SECONDS >= deadline)); then
      sed 's/^/    /' "$log" >&2
      isp_fail "tgtd in $SAN_NS did not come up on $SAN_NS_ADDR:$SAN_TGT_PORT"
    fi
    sleep 0.05
  done
  # One TCP connection from the host across the pair proves the path.
  # shellcheck disable=SC2016  # $1 $2 are the inner shell's
  isp_timeout 10 bash -c ': <>"/dev/tcp/$1/$2"' _ "$SAN_NS_ADDR" "$SAN_TGT_PORT" ||
    isp_fail "cannot reach $SAN_NS_ADDR:$SAN_TGT_PORT from the host over $SAN_HOST_IF"
  isp_log "tgtd pid $pid in $SAN_NS on $SAN_NS_ADDR:$SAN_TGT_PORT (control socket.$ctl)"
}

# isp_netns_destroy: exit hook. Stops our tgtd (lib.sh's stop, by PID), then
# deletes the namespace; the veth pair goes with it. Idempotent.
isp_netns_destroy() {
  [[ -n "$SAN_NS" ]] || return 0
  [[ -z "$_ISP_SAN_TGT_IDX" ]] || _isp_stop_tgtd "$_ISP_SAN_TGT_IDX"
  if ip netns list 2>/dev/null | grep -qw "$SAN_NS"; then
    ip netns del "$SAN_NS" 2>/dev/null || isp_log "ip netns del $SAN_NS failed"
  fi
  # The pair is destroyed with the namespace; remove the host end should it linger.
  local deadline=$((SECONDS + 5))
  while ip link show "$SAN_HOST_IF" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      ip link del "$SAN_HOST_IF" 2>/dev/null || isp_log "cannot remove $SAN_HOST_IF"
      break
    fi
    sleep 0.05
  done
  SAN_NS=""
}
