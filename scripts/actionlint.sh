#!/usr/bin/env bash
# actionlint on every workflow in .github/workflows, with shellcheck on their
# run: blocks. Installs what is missing, once:
#
# - actionlint, built from the Go module proxy into .tools/bin (ignored by
#   git), so that every machine runs the same version; needs `go`.
# - shellcheck, from apt when it is missing and apt-get may be used (root, or
#   sudo without a password). When it cannot be had, the run: blocks are not
#   checked, and this script says so on every run.
#
#   bash scripts/actionlint.sh            # all workflows
#   bash scripts/actionlint.sh FILE...    # some
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ACTIONLINT_VERSION=v1.7.12
BIN="$ROOT/.tools/bin"
actionlint="$BIN/actionlint"

if [ "$("$actionlint" -version 2>/dev/null | head -1)" != "$ACTIONLINT_VERSION" ]; then
  if ! command -v go >/dev/null; then
    echo "actionlint: 'go' is needed to install actionlint $ACTIONLINT_VERSION into .tools/bin: install Go 1.25 or later (an older go fetches it by itself unless GOTOOLCHAIN=local)" >&2
    exit 1
  fi
  echo "actionlint: installing $ACTIONLINT_VERSION into .tools/bin (go install)"
  mkdir -p "$BIN"
  if ! log=$(GOBIN="$BIN" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" 2>&1); then
    echo "$log" >&2
    echo "actionlint: 'go install' failed (it needs the Go module proxy, proxy.golang.org)" >&2
    exit 1
  fi
fi

if ! command -v shellcheck >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  if command -v apt-get >/dev/null && $sudo true 2>/dev/null; then
    echo "actionlint: installing shellcheck (apt-get)"
    # A fresh machine may have no package lists yet.
    $sudo apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
      { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq shellcheck >/dev/null 2>&1; } ||
      true
  fi
fi
shellcheck_flag=()
if command -v shellcheck >/dev/null; then
  shellcheck_flag=(-shellcheck=shellcheck)
else
  echo "actionlint: shellcheck is not installed and could not be installed: the run: blocks are NOT checked" >&2
  shellcheck_flag=(-shellcheck=)
fi

if [ $# -gt 0 ]; then
  files=("$@")
else
  shopt -s nullglob
  files=(.github/workflows/*.yml .github/workflows/*.yaml)
  shopt -u nullglob
  if [ ${#files[@]} = 0 ]; then
    echo "actionlint: no workflow files in .github/workflows" >&2
    exit 1
  fi
fi

# No python: blocks here, so no pyflakes.
"$actionlint" -oneline "${shellcheck_flag[@]}" -pyflakes= "${files[@]}"
echo "actionlint $ACTIONLINT_VERSION: ${#files[@]} workflow files pass (shellcheck: $([ "${shellcheck_flag[0]}" = -shellcheck= ] && echo skipped || echo on))"
