# Sourced by the other scripts: create the virtual environment once and install the given extras.
# The install is skipped while pyproject.toml and the extras are unchanged since the last one.
set -euo pipefail
VENV="${SONGID_VENV:-.venv}"
ensure_venv() {
    local extras="$1" stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        command -v python3 >/dev/null || { echo "python3 (3.11 or newer) is required" >&2; exit 1; }
        python3 -m venv "$VENV"
    fi
    stamp="$VENV/.installed-$extras"
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
        echo "$want" > "$stamp"
    fi
}
