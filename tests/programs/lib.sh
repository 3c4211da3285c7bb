# Shared by the program tests, sourced with the test's arguments (BUILD_EXAMPLES_DIR WORK_DIR): sets
# $bin and $work (emptied), two OpenMP threads unless told otherwise, and defines fail and
# expect_error CODE PATTERN CMD... (CMD must exit with CODE and print PATTERN on stderr).
set -euo pipefail
bin=$1
work=$2
rm -rf "$work"
mkdir -p "$work"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

fail() { echo "FAIL: $*" >&2; exit 1; }

expect_error() {
  local code=$1 pattern=$2
  shift 2
  local rc=0
  "$@" >"$work/out.txt" 2>"$work/err.txt" || rc=$?
  [[ $rc == "$code" ]] || { cat "$work/err.txt" >&2; fail "'$*' exited $rc, expected $code"; }
  grep -qF -- "$pattern" "$work/err.txt" || { cat "$work/err.txt" >&2; fail "'$*' did not say '$pattern'"; }
  echo "ok: '$*' -> exit $code, says '$pattern'"
}
