#!/usr/bin/env bash
# Every benchmark program answers --help with its usage on stdout (exit 0) and refuses an unknown flag
# naming it and pointing to --help (exit 1). Arguments: BUILD_BENCHMARKS_DIR WORK_DIR NAME...
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shift 2
(($# > 0)) || fail "no benchmark names given"
for name in "$@"; do
  program="$bin/$name"
  [[ -x $program ]] || fail "$program is not built"
  rc=0
  "$program" --help >"$work/help.txt" 2>&1 || rc=$?
  [[ $rc == 0 ]] || { cat "$work/help.txt" >&2; fail "$name --help exited $rc"; }
  grep -q "^Usage: $name " "$work/help.txt" || { cat "$work/help.txt" >&2; fail "$name --help printed no 'Usage: $name'"; }
  echo "ok: $name --help"
  expect_error 1 "--no_such_flag" "$program" --no_such_flag 1
  grep -qF -- "(--help lists them)" "$work/err.txt" || fail "$name's error does not point to --help"
done
