#!/usr/bin/env bash
# Prints the path of a Python 3.13 interpreter, or explains how to get one and fails.
# Order: $PYTHON, python3.13 on PATH, a pyenv-installed 3.13.x (pyenv's shims hide it
# unless PYENV_VERSION names it, so we look in pyenv's versions folder directly).
set -u

is_313() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; }

for candidate in "${PYTHON:-}" python3.13; do
  [ -n "$candidate" ] || continue
  if is_313 "$candidate"; then
    # The base interpreter, not a virtualenv's: make replaces .venv, which may be on PATH.
    "$candidate" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))'
    exit 0
  fi
done

if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for candidate in $(ls -d "$root"/versions/3.13.* 2>/dev/null | sort -V -r); do
    if is_313 "$candidate/bin/python3.13"; then
      echo "$candidate/bin/python3.13"
      exit 0
    fi
  done
fi

cat >&2 <<'MSG'
Python 3.13 was not found.
This project runs on Python 3.13 (the Lambda runtime it deploys to). Any one of these works:
  - install it with your package manager so that `python3.13` is on PATH;
  - with pyenv: `pyenv install 3.13`;
  - or point to an interpreter: `make test PYTHON=/path/to/python3.13`.
MSG
exit 1
