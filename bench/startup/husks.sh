# Sourced by run.sh and profile.sh: which husk-runtime binaries to measure.
# husks_found TOP [PATH...] fills the array `husks` with NAME=PATH entries: the given paths,
# else whichever of build/, build-static/ and build-dynamic/ has one. The name says how the
# binary is linked (husk = static-pie, the default build; husk-dynamic = dynamically
# linked, -DHUSK_STATIC_RUNTIME=OFF); one binary per name.
husks_found() {
  local top=$1 bin name seen=" "
  shift
  local candidates=("$@")
  [ ${#candidates[@]} -gt 0 ] || candidates=("$top/build/bin/husk-runtime"
    "$top/build-dynamic/bin/husk-runtime" "$top/build-static/bin/husk-runtime")
  husks=()
  for bin in "${candidates[@]}"; do
    [ -x "$bin" ] || continue
    # No program interpreter (ld.so) requested: static.
    if readelf -l "$bin" | grep -q 'program interpreter'; then name=husk-dynamic; else name=husk; fi
    [[ $seen == *" $name "* ]] && continue
    seen+="$name "
    husks+=("$name=$bin")
  done
  # The default build first, so the tables read husk, husk-dynamic, crun, runc.
  [ ${#husks[@]} -eq 2 ] && [[ ${husks[0]} == husk-dynamic=* ]] && husks=("${husks[1]}" "${husks[0]}")
  [ ${#husks[@]} -gt 0 ] || { echo "no husk-runtime binary (cmake --build build --target husk-runtime)" >&2; return 1; }
}
