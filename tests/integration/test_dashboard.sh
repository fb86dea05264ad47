#!/usr/bin/env bash
# The dashboard at / of the stats endpoint, in a real headless Chromium:
#   - the page is the proxy's own (no external scripts, styles or fonts);
#   - it loads with no console message and no uncaught error;
#   - it shows the LUN, and its allocation map (the data-map attribute the page
#     renders from /stats) is all unknown on a cold cache and changes after a
#     full read through the proxy (unallocated cells appear);
#   - a screenshot is kept in build/artifacts/dashboard.png.
# Fails if any of these does not hold.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
((ISP_DIRECT == 0)) || { isp_log "direct mode: no dashboard to test"; exit 0; }
command -v chromium >/dev/null || isp_fail "chromium not found (run tests/deps.sh)"

isp_start_layout_backend
isp_start_proxy_cache exclusive
isp_probe_lun "$URL_PROXY" "$STATS_PORT" zero-serving
URL_DASH=http://127.0.0.1:$STATS_PORT/
ARTIFACTS=${ISP_ARTIFACTS:-$(cd "$(dirname "$0")/../.." && pwd)/build/artifacts}
mkdir -p "$ARTIFACTS"

# Chromium as the machine's notes prescribe: no sandbox (root), no GPU, no
# background networking (the sandbox has no network), a fresh profile.
browser() { # browser OUT_PREFIX ARGS...: stdout to OUT_PREFIX.out, stderr to .err
  local out=$1
  shift
  isp_timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$ISP_WORK/chrome-profile" --enable-logging=stderr --v=0 \
    --virtual-time-budget=4000 "$@" >"$out.out" 2>"$out.err" ||
    { tail -n 20 "$out.err" >&2; isp_fail "chromium failed ($*)"; }
}
page_map() { # the data-map of our LUN in a DOM dump
  grep -o "data-lun=\"$ISP_PROXY_IQN_DEFAULT/$ISP_LUN\" data-map=\"[a-z]*\"" "$1" |
    sed 's/.*data-map="//; s/"$//'
}
console_clean() { # no console message, no uncaught error
  if grep -E "CONSOLE|Uncaught" "$1"; then isp_fail "the dashboard logged to the console (above)"; fi
}

isp_stats_get "$STATS_PORT" "" "$ISP_WORK/page.html"
if grep -Eio '(src|href)="https?://[^"]*' "$ISP_WORK/page.html"; then
  isp_fail "the dashboard loads something from elsewhere (above)"
fi

browser "$ISP_WORK/cold" --dump-dom "$URL_DASH"
console_clean "$ISP_WORK/cold.err"
cold=$(page_map "$ISP_WORK/cold.out")
[[ -n "$cold" ]] || isp_fail "the dashboard does not show $ISP_PROXY_IQN_DEFAULT LUN $ISP_LUN"
[[ "$cold" =~ ^k+$ ]] || isp_fail "cold cache, yet the map shows known cells: $cold"
echo "## cold: the LUN is shown, map of ${#cold} cells all unknown"

isp_read_all "$URL_PROXY" "$ISP_WORK/full.raw"
cmp "$ISP_WORK/full.raw" "$ISP_IMG" || isp_fail "the full read through the proxy differs"
rm -f "$ISP_WORK/full.raw"

browser "$ISP_WORK/warm" --dump-dom "$URL_DASH"
console_clean "$ISP_WORK/warm.err"
warm=$(page_map "$ISP_WORK/warm.out")
[[ "$warm" != "$cold" && "$warm" == *u* ]] ||
  isp_fail "the map did not change after a full read: $warm"
echo "## after a full read: map $warm"

browser "$ISP_WORK/shot" --window-size=1100,700 --screenshot="$ARTIFACTS/dashboard.png" "$URL_DASH"
console_clean "$ISP_WORK/shot.err"
[[ -s "$ARTIFACTS/dashboard.png" ]] || isp_fail "no screenshot"
echo "## screenshot: $ARTIFACTS/dashboard.png"
