#!/usr/bin/env bash
# A LUN remapped while the proxy runs (issue 9, case 1: "LUN numbers are per
# host"). The proxy's cache for LUN 1 is warmed with a full read (its holes are
# known UNALLOCATED). Then the SAN administrator deletes LUN 1 and adds another
# backing file, with another scsi_id / scsi_sn, as LUN 1 -- what an array does when
# a host group's LUN 0 is remapped. A new session through the proxy must read the
# new LU: the proxy uses a cache only after that session's own backend session
# read the LUN's Device Identification VPD page and the designator named it, and
# the new designator names a new, cold object.
#
# What makes it fail: the new LU read through the proxy with the old LU's holes as
# zeros (a cache keyed by LUN number, or a designator read by another session
# trusted), a full read through the proxy differing from the new backing file, or
# /stats not showing two objects with different identities.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

isp_setup_cache exclusive
M=$((1024 * 1024)) PAGE=$((64 * 1024))

isp_read_all "$URL_PROXY" "$ISP_WORK/old.raw"
cmp "$ISP_WORK/old.raw" "$ISP_IMG" || isp_fail "the full read of the first LU differs from its file"
rm -f "$ISP_WORK/old.raw"
if ((!ISP_DIRECT)); then
  un=$(isp_stat "$STATS_PORT" pages_unallocated)
  ((un > 0)) || isp_fail "the proxy knows no unallocated page of the first LU"
  echo "## first LU read through the proxy: $un pages known unallocated"
fi

# The new LU: the first one's data plus patterns in pages that were holes.
NEW_IMG=$ISP_WORK/lun1-new.img
cp --sparse=always "$ISP_IMG" "$NEW_IMG"
patterns=("0x71 $((30 * M)) $PAGE" "0x72 $((60 * M + 4096)) 8192" "0x73 $((150 * M)) $((3 * PAGE))"
          "0x74 $((200 * M + 512)) 512")
for p in "${patterns[@]}"; do
  read -r byte off len <<<"$p"
  isp_is_hole_pages "$ISP_IMG" "$off" "$len" "$PAGE" || isp_fail "test layout: [$off, +$len) is not in hole pages"
  isp_byte_file "$len" "$byte" | dd of="$NEW_IMG" bs=512 seek=$((off / 512)) conv=notrunc status=none
done

isp_tgtadm --op delete --mode logicalunit --tid 1 --lun "$ISP_LUN" || isp_fail "tgtadm: cannot delete LUN $ISP_LUN"
isp_tgtadm --op new --mode logicalunit --tid 1 --lun "$ISP_LUN" -b "$NEW_IMG" ||
  isp_fail "tgtadm: cannot add the new LUN $ISP_LUN"
isp_tgtadm --op update --mode logicalunit --tid 1 --lun "$ISP_LUN" \
  --params thin_provisioning=1,scsi_id=remap-b-00000b0b,scsi_sn=REMAPB01 ||
  isp_fail "tgtadm: cannot set the new LUN's identity"
echo "## LUN $ISP_LUN remapped to another backing file (scsi_id remap-b-00000b0b)"

# A new session reads the patterns first (the pages the old LU had as holes),
# then everything.
for p in "${patterns[@]}"; do
  read -r byte off len <<<"$p"
  isp_qio "$URL_PROXY" "read -P $byte $off $len" ||
    isp_fail "[$off, +$len) of the new LU through the proxy is not $byte (the old LU's holes served?)"
done
isp_read_all "$URL_PROXY" "$ISP_WORK/new.raw"
cmp "$ISP_WORK/new.raw" "$NEW_IMG" || isp_fail "the full read of the new LU differs from its file"
echo "## the new LU read through new sessions equals its file, patterns in the old holes included"

((ISP_DIRECT)) && exit 0
isp_stats_get "$STATS_PORT" stats | python3 -c '
import json, sys
luns = [l for l in json.load(sys.stdin)["luns"] if l["lun"] == int(sys.argv[1])]
ids = sorted(l["identity"] for l in luns)
if len(luns) != 2 or ids[0] == ids[1]:
    sys.exit("/stats: %d objects for LUN %s with identities %s, expected two different" %
             (len(luns), sys.argv[1], ids))
print("## /stats: two objects for LUN %s: %s" % (sys.argv[1], ", ".join(ids)))
' "$ISP_LUN" || isp_fail "/stats does not show the two LUs"
isp_proxy_alive "after the remap"
