#!/usr/bin/env bash
# Times each step of `make test` and prints a table: where the suite's minutes go.
#   scripts/time-suite.sh             # the steps of make test, as make test runs them
#   SERIAL=1 scripts/time-suite.sh    # each check alone, one after another: where their time goes
#   PYTEST_WORKERS=1 scripts/time-suite.sh   # the tests in one process, to compare
# A figure to read, not a check: nothing here fails on a slow machine.
set -u
cd "$(dirname "$0")/.."

steps=(checks) # as make test runs them: side by side
[ -n "${SERIAL:-}" ] && steps=(lint typecheck validate build checkov)
declare -A seconds # milliseconds, per step
ms_as_seconds() { printf "%d.%d" $(($1 / 1000)) $(($1 % 1000 / 100)); }
total_start=$(date +%s%N)
status=0
for step in "${steps[@]}"; do
  if [ "$step" = checks ]; then
    targets=(-j2 --output-sync=target lint typecheck validate build checkov)
    make -n "${targets[@]}" >/dev/null 2>&1 || continue # an older Makefile
  else
    targets=("$step")
    make -n "$step" >/dev/null 2>&1 || continue # a step this checkout's Makefile does not have
  fi
  start=$(date +%s%N)
  make --no-print-directory "${targets[@]}" >/dev/null 2>&1 || { echo "make $step failed" >&2; status=1; }
  seconds[$step]=$(( ($(date +%s%N) - start) / 1000000 ))
done
workers=() # one worker per core where pytest-xdist is installed, as make test runs
.venv/bin/python -c 'import xdist' 2>/dev/null && workers=(-n "${PYTEST_WORKERS:-auto}")
start=$(date +%s%N)
.venv/bin/python -m pytest -q -p no:cacheprovider "${workers[@]}" | tail -n 1
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
seconds[pytest]=$(( ($(date +%s%N) - start) / 1000000 ))
total=$(( ($(date +%s%N) - total_start) / 1000000 ))

printf '\n%-10s %8s\n' step seconds
for step in "${steps[@]}" pytest; do
  [ -n "${seconds[$step]:-}" ] && printf '%-10s %8s\n' "$step" "$(ms_as_seconds "${seconds[$step]}")"
done
printf '%-10s %8s\n' total "$(ms_as_seconds "$total")"
exit $status
