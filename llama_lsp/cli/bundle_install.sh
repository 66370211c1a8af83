#!/bin/sh
# Install this llama-lsp offline bundle. It uses no network: every file is checked against
# SHA256SUMS first (any mismatch, missing or extra file: nothing is installed), then llama-lsp is
# installed from the bundle's wheels into a virtual environment, the models and editor clients
# are put in place, and `llama-lsp doctor` checks the result.
#
#   sh install.sh [--prefix DIR] [--python PYTHON] [--fingerprint SHA256]
#
# --prefix       where to install (default: $LLAMA_LSP_PREFIX, else ~/.local/share/llama-lsp)
# --python       the Python to build the environment with (default: python3); it must be the
#                version and system this bundle was made for (@@PYTHON_VERSION@@ on @@PLATFORM@@)
# --fingerprint  refuse unless SHA256SUMS itself has this SHA-256 (the "bundle fingerprint"
#                printed by `llama-lsp bundle`, received through a separate channel)
set -eu

LLAMA_LSP_VERSION="@@LLAMA_LSP_VERSION@@"
PYTHON_VERSION="@@PYTHON_VERSION@@"
PLATFORM="@@PLATFORM@@"
REQUIREMENT="@@REQUIREMENT@@"
# name|bundle path|sha256, one model a line; the first is the default one ("demo" when the
# demo model package is in the bundle)
MODELS="@@MODELS@@"

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${LLAMA_LSP_PREFIX:-${XDG_DATA_HOME:-$HOME/.local/share}/llama-lsp}
PYTHON=python3
FINGERPRINT=""

refuse() {
    echo "install.sh: REFUSED: $*" >&2
    echo "install.sh: nothing was installed." >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || refuse "--prefix needs a folder"; PREFIX=$2; shift 2 ;;
        --python) [ $# -ge 2 ] || refuse "--python needs a Python"; PYTHON=$2; shift 2 ;;
        --fingerprint) [ $# -ge 2 ] || refuse "--fingerprint needs a SHA-256"; FINGERPRINT=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) refuse "unknown argument $1 (see --help)" ;;
    esac
done

case "$PREFIX" in
    /*) ;;
    *) PREFIX="$(pwd)/$PREFIX" ;;
esac

# The installed code, not a PYTHONPATH, runs pip and doctor.
unset PYTHONPATH PYTHONHOME

# --- 1. Verify every file before touching anything ---------------------------------------------

if command -v sha256sum >/dev/null 2>&1; then
    sha256() { sha256sum "$@"; }
    check_sums() { sha256sum -c --strict SHA256SUMS; }
elif command -v shasum >/dev/null 2>&1; then
    sha256() { shasum -a 256 "$@"; }
    check_sums() { shasum -a 256 -c --strict SHA256SUMS; }
else
    refuse "neither sha256sum nor shasum is available to verify the bundle"
fi

cd "$HERE"
[ -f SHA256SUMS ] || refuse "SHA256SUMS is missing from $HERE"
fingerprint=$(sha256 SHA256SUMS | cut -d ' ' -f 1)
echo "bundle: $HERE"
echo "bundle fingerprint (SHA-256 of SHA256SUMS): $fingerprint"
if [ -n "$FINGERPRINT" ] && [ "$FINGERPRINT" != "$fingerprint" ]; then
    refuse "SHA256SUMS has SHA-256 $fingerprint, not the expected $FINGERPRINT"
fi
lines=$(wc -l < SHA256SUMS | tr -d ' ')
well_formed=$(grep -c '^[0-9a-f]\{64\}  [A-Za-z0-9._+/-]*$' SHA256SUMS || true)
[ "$lines" = "$well_formed" ] || refuse "SHA256SUMS has malformed lines"
listed=$(cut -c 67- SHA256SUMS | LC_ALL=C sort)
present=$(find . -type f ! -path ./SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort)
if [ "$listed" != "$present" ]; then
    for file in $present; do
        echo "$listed" | grep -qxF "$file" || echo "  not in SHA256SUMS: $file" >&2
    done
    for file in $listed; do
        echo "$present" | grep -qxF "$file" || echo "  missing: $file" >&2
    done
    refuse "the bundle's files differ from the list in SHA256SUMS"
fi
if ! report=$(check_sums 2>&1); then
    echo "$report" | grep -v ': OK$' >&2 || true
    refuse "a file does not match its SHA-256 in SHA256SUMS"
fi
echo "verified: $lines files match SHA256SUMS"

# --- 2. The Python this bundle's wheels were built for -----------------------------------------

command -v "$PYTHON" >/dev/null 2>&1 || refuse "no $PYTHON on PATH: use --python /path/to/python$PYTHON_VERSION"
found=$("$PYTHON" -c 'import platform, sys; print("%d.%d %s-%s" % (sys.version_info[0], sys.version_info[1], platform.system(), platform.machine()))')
[ "$found" = "$PYTHON_VERSION $PLATFORM" ] || refuse "this bundle is for Python $PYTHON_VERSION on $PLATFORM; $PYTHON is Python $found (use --python, or make the bundle on a machine like this one)"

# --- 3. Virtual environment and wheels (pip: --no-index, only this bundle's wheels) ------------

VENV="$PREFIX/venv"
MARKER="$VENV/llama-lsp-bundle.json"
if [ -e "$VENV" ] && [ ! -f "$MARKER" ]; then
    refuse "$VENV exists and was not made by install.sh; choose another --prefix"
fi
mkdir -p "$PREFIX"
echo "creating $VENV"
if ! "$PYTHON" -m venv --clear "$VENV"; then
    rm -rf "$VENV"  # absent or made by install.sh (checked above)
    echo "install.sh: $PYTHON -m venv failed (Debian and Ubuntu: install python3-venv)" >&2
    exit 1
fi
cp manifest.json "$MARKER"
echo "installing $REQUIREMENT from $HERE/wheels (no index)"
"$VENV/bin/python" -m pip --isolated --disable-pip-version-check --no-input --no-cache-dir \
    install --no-index --only-binary=:all: --find-links "$HERE/wheels" "$REQUIREMENT" \
    || { echo "install.sh: pip could not install from the bundle" >&2; exit 1; }
LLAMA_LSP="$VENV/bin/llama-lsp"

# --- 4. Models, editor clients -----------------------------------------------------------------

default_model=""
default_sha=""
echo "$MODELS" | while IFS='|' read -r name file sha; do
    [ -n "$name" ] || continue
    [ "$file" = "demo" ] || { mkdir -p "$PREFIX/models"; cp "$file" "$PREFIX/models/"; }
done
if [ -n "$MODELS" ]; then
    first_line=$(echo "$MODELS" | head -n 1)
    default_file=$(echo "$first_line" | cut -d '|' -f 2)
    default_sha=$(echo "$first_line" | cut -d '|' -f 3)
    [ "$default_file" = "demo" ] || default_model="$PREFIX/models/$(basename "$default_file")"
fi

rm -rf "$PREFIX/neovim"
cp -R editors/neovim "$PREFIX/neovim"

if [ -f editors/llama-lsp.vsix ]; then
    installed_vsix=""
    for editor in code code-server; do
        if command -v "$editor" >/dev/null 2>&1; then
            if "$editor" --install-extension "$HERE/editors/llama-lsp.vsix" --force; then
                installed_vsix="$installed_vsix $editor"
            else
                echo "install.sh: $editor could not install the extension" >&2
            fi
        fi
    done
    if [ -z "$installed_vsix" ]; then
        echo "VS Code: no code or code-server on PATH; later: code --install-extension $HERE/editors/llama-lsp.vsix"
    else
        echo "VS Code extension installed in:$installed_vsix"
    fi
else
    echo "VS Code: this bundle has no .vsix (see manifest.json, \"vscode\")"
fi

# --- 5. Settings to use ------------------------------------------------------------------------

echo
echo "llama-lsp $LLAMA_LSP_VERSION is installed: $LLAMA_LSP"
echo "Put it on PATH (or use the paths below): ln -s \"$LLAMA_LSP\" ~/.local/bin/llama-lsp"
if [ -n "$MODELS" ]; then
    echo
    echo "Models (pin them with modelSha256):"
    echo "$MODELS" | while IFS='|' read -r name file sha; do
        [ -n "$name" ] || continue
        if [ "$file" = "demo" ]; then
            echo "  $name: found by default (model setting empty), modelSha256 $sha"
        else
            echo "  $name: $PREFIX/models/$(basename "$file"), modelSha256 $sha"
        fi
    done
fi
model_json=""
model_lua=""
doctor_args=""
if [ -n "$default_model" ]; then
    model_json="
  \"llama-lsp.model\": \"$default_model\","
    model_lua="model = \"$default_model\", "
    doctor_args="--model $default_model"
fi
sha_json=""
sha_lua=""
if [ -n "$default_sha" ]; then
    sha_json="
  \"llama-lsp.modelSha256\": \"$default_sha\","
    sha_lua="modelSha256 = \"$default_sha\" "
    doctor_args="${doctor_args:+$doctor_args }--model-sha256 $default_sha"
fi
cat <<EOF

VS Code settings.json:
{$model_json$sha_json
  "llama-lsp.serverPath": "$LLAMA_LSP"
}

Neovim, lazy.nvim spec:
{
  dir = "$PREFIX/neovim",
  name = "llama_lsp",
  main = "llama_lsp",
  event = { "BufReadPre", "BufNewFile" },
  opts = {
    cmd = { "$LLAMA_LSP", "serve" },
    settings = { $model_lua$sha_lua},
  },
}

Command line: $LLAMA_LSP complete FILE:LINE:COL $doctor_args

EOF

# --- 6. Check ----------------------------------------------------------------------------------

echo "$LLAMA_LSP doctor $doctor_args"
# shellcheck disable=SC2086 # doctor_args is a list of words
exec "$LLAMA_LSP" doctor $doctor_args
