#!/usr/bin/env bash
# Installs the Debian 12 packages needed to build, test (unit, integration,
# sanitizers, fuzzing), run the demo and the benchmark. Silent when everything
# is installed. As root it installs what is missing (apt-get update once first);
# otherwise it prints the one command to run and exits 1 before doing anything.
set -euo pipefail

PKGS=(
  build-essential pkg-config                      # cc, make
  clang libclang-rt-14-dev                        # make fuzz (libFuzzer, sanitizers)
  libevent-dev libiscsi-dev libssl-dev libinih-dev libisal-dev libjansson-dev  # the daemon
  libcmocka-dev                                   # unit tests
  tgt                                             # tgtd/tgtadm: the backend in tests
  libiscsi-bin                                    # iscsi-ls/-inq/-perf/-test-cu
  qemu-utils qemu-block-extra                     # qemu-img/qemu-io with iscsi://
  e2fsprogs                                       # mke2fs -d, debugfs, e2fsck
  iproute2 procps python3                         # ss, ps, the malformed-PDU client
  curl prometheus                                 # stats endpoint tests (promtool)
  openssl                                         # test certificates for the stats endpoint
  groff-base                                      # man page checks (make install-check)
  xxd                                             # embeds the dashboard page
  chromium                                        # dashboard test (headless)
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "deps.sh: not a Debian system; install the equivalents of: ${PKGS[*]}" >&2
  exit 0
fi

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "deps.sh: missing packages: ${missing[*]}" >&2
  echo "deps.sh: install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y "${missing[@]}"
