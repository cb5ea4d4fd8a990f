#!/bin/sh
# Fixture of the real-client suite (tests/clients): compiles client.iss into the two
# installers with Inno Setup's ISCC under Wine, in this build tree's prefix.
#
#   installers.sh WINE_RUN INNOSETUP_DIR OUT_DIR OUT_DIR_W ISS_W BIN32_W BIN64_W
#
# (_W: the same place as Wine names it.) Exits 77, which ctest reports as skipped, when Inno
# Setup is not installed, saying why; the cases then skip the same way.
set -eu
wine_run=$1 inno=$2 out=$3 out_w=$4 iss_w=$5 bin32_w=$6 bin64_w=$7
iscc="$inno/node_modules/innosetup/bin/ISCC.exe"
rm -rf "$out"
mkdir -p "$out"
if [ ! -f "$iscc" ]; then
    reason="Inno Setup 6.4.1 is not installed in $inno"
    [ -f "$inno/unavailable.txt" ] && reason="$reason: $(cat "$inno/unavailable.txt")"
    echo "$reason" >"$out/skipped.txt"
    echo "clients SKIPPED: $reason (cmake/test.cmake installs it with npm)"
    exit 77
fi
for mode in 0 1; do
    name=setup32
    [ "$mode" = 1 ] && name=setup64
    "$wine_run" "$iscc" /Q "/DMode64=$mode" "/DBin32=$bin32_w" "/DBin64=$bin64_w" "/O$out_w" "/F$name" "$iss_w"
    if [ ! -f "$out/$name.exe" ]; then
        echo "ISCC did not write $out/$name.exe" >&2
        exit 1
    fi
done
echo "installers: $(cd "$out" && ls setup*.exe | tr '\n' ' ')"
