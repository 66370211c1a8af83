#!/usr/bin/env bash
# VS Code end-to-end test: build the .vsix offline, install it into code-server 4.100.3, open a
# workspace on 127.0.0.1 in headless Debian chromium (playwright-core, no browser download),
# type in a Python file while the model loads (default settings) and check that llama-lsp's
# ghost text (demo model) appears whole, Tab, the status bar, the extension's test-only command,
# and that every request got exactly one reply (the server runs behind tests/lsp_tap.py).
# Installs its prerequisites when missing (apt, npm).
# Artifacts (screenshots, code-server log): test-artifacts/ at the repository root.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
EXTENSION="$(cd "$HERE/../.." && pwd)"
ROOT="$(cd "$EXTENSION/../.." && pwd)"
TOOLS="${LLAMA_LSP_E2E_TOOLS:-$HOME/.cache/llama-lsp-e2e}"
ARTIFACTS="${LLAMA_LSP_E2E_ARTIFACTS:-$ROOT/test-artifacts}"
PYTHON="$(command -v "${PYTHON:-python3}")"
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
started=$SECONDS

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. System packages: chromium to drive, ripgrep and headers for code-server's native modules.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v rg >/dev/null || missing+=(ripgrep)
for package in libkrb5-dev libxkbfile-dev libsecret-1-dev; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "vscode-e2e: installing ${missing[*]}"
  as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# 2. code-server and playwright-core, once, in $TOOLS. @vscode/ripgrep's postinstall would
#    download rg: seed its cache from Debian's rg instead. npm 11 runs no install scripts unless
#    allowed (allowScripts), and code-server's own postinstall needs --unsafe-perm as root.
if [ ! -x "$TOOLS/node_modules/.bin/code-server" ] || [ ! -d "$TOOLS/node_modules/playwright-core" ]; then
  echo "vscode-e2e: installing code-server@$CODE_SERVER_VERSION and playwright-core into $TOOLS"
  export TMPDIR="${TMPDIR:-/tmp}"
  mkdir -p "$TMPDIR/vscode-ripgrep-cache-1.15.11" "$TOOLS"
  tar czf "$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
  [ -f "$TOOLS/package.json" ] || echo '{"name": "llama-lsp-e2e-tools", "private": true,
    "allowScripts": {"code-server": true, "argon2": true}}' > "$TOOLS/package.json"
  (cd "$TOOLS" && npm_config_yes=true npm_config_unsafe_perm=true npm_config_dangerously_allow_all_scripts=true \
    npm install "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION")
fi

# 3. Build, unit-test and package the extension (offline once node_modules is there).
(cd "$EXTENSION" && npm ci --no-audit --no-fund && npm test && npm run package)
echo "vscode-e2e: $(du -k "$EXTENSION/llama-lsp.vsix" | cut -f1) KiB llama-lsp.vsix"

# 4. A fresh code-server profile with the extension installed, and a workspace.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/user-data/User" "$WORK/workspace" "$ARTIFACTS"
rm -f "$ARTIFACTS"/vscode-*
# The `data = ` line is typed by the test.
sed '51s/data = $//' "$ROOT/examples/python/inventory.py" > "$WORK/workspace/inventory.py"
# A function without a docstring, for the docstring command.
printf '\n\ndef total_quantity(inventory: Inventory) -> int:\n    return sum(item.quantity for item in inventory.items.values())\n' \
  >> "$WORK/workspace/inventory.py"
# The server as the extension starts it (serverPath ... serve), behind the tap that logs messages.
cat > "$WORK/llama-lsp-tapped" <<SH
#!/bin/sh
exec "$PYTHON" "$ROOT/tests/lsp_tap.py" "$WORK/tap.jsonl" -- "$PYTHON" -m llama_lsp "\$@"
SH
chmod +x "$WORK/llama-lsp-tapped"
cat > "$WORK/user-data/User/settings.json" <<JSON
{
  "llama-lsp.serverPath": "$WORK/llama-lsp-tapped",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "security.workspace.trust.enabled": false,
  "git.enabled": false,
  "editor.inlineSuggest.enabled": true
}
JSON
"$TOOLS/node_modules/.bin/code-server" --user-data-dir "$WORK/user-data" \
  --extensions-dir "$WORK/extensions" --install-extension "$EXTENSION/llama-lsp.vsix"

# 5. Drive it. PYTHONPATH: the server runs from this checkout even when not pip-installed.
E2E_TOOLS="$TOOLS" E2E_WORK="$WORK" E2E_PYTHON="$PYTHON" E2E_ROOT="$ROOT" E2E_WORKSPACE="$WORK/workspace" E2E_ARTIFACTS="$ARTIFACTS" \
  XDG_CONFIG_HOME="$WORK/config" PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
  node "$HERE/e2e.cjs"
echo "vscode-e2e: passed in $((SECONDS - started)) s"
