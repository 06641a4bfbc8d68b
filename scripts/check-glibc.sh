#!/usr/bin/env bash
# Fails if a Linux binary needs a newer glibc than FLOOR: the newest GLIBC_x.y version among its
# dynamic symbols (objdump -T) must be <= FLOOR. Prints that version.
# Usage: scripts/check-glibc.sh FILE FLOOR
set -euo pipefail
file=$1
floor=$2
newest=$(objdump -T "$file" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n 1)
echo "$file: newest glibc symbol version ${newest:-none} (floor $floor)"
if [ -n "$newest" ] && [ "$(printf '%s\n%s\n' "$newest" "$floor" | sort -V | tail -n 1)" != "$floor" ]; then
  echo "$file needs glibc $newest, newer than the $floor floor" >&2
  exit 1
fi
