# shellcheck shell=bash
# Shared by scripts/test and scripts/demo; sourced with the repo root as the current directory.
# Functions return non-zero instead of exiting, so callers decide what is fatal. They use explicit
# `|| return 1` because `set -e` is switched off inside a function that is called as `f || ...`.

die() {
    echo "error: $*" >&2
    exit 1
}

warn() {
    echo "warning: $*" >&2
}

python_ok() {  # $1: interpreter; true if it runs and is Python >= 3.10
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null
}

# Create .venv if it is missing, broken (its interpreter moved) or too old; then make sure
# `pip install -e .[EXTRAS]` has been done since pyproject.toml last changed.
ensure_venv() {  # $1: extras, e.g. "test" or "demo,flask"
    local extras="$1"
    if ! python_ok .venv/bin/python; then
        local py="${PYTHON:-python3}"
        command -v "$py" >/dev/null || die "$py not found: install Python >= 3.10, or set PYTHON=/path/to/python3.X"
        python_ok "$py" || die "$py is $("$py" -V 2>&1); migration-guard needs Python >= 3.10 (set PYTHON=/path/to/python3.X)"
        [[ -e .venv ]] && echo "replacing .venv: it does not run Python >= 3.10"
        rm -rf .venv
        echo "creating .venv with $("$py" -V 2>&1)"
        "$py" -m venv .venv || die "could not create .venv (Debian/Ubuntu: apt-get install python3-venv)"
    fi
    local stamp=".venv/.mg-installed-${extras//,/-}"
    local want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) $PWD"
    # The import check catches a venv whose editable install points at another checkout.
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] &&
        [[ "$(.venv/bin/python -c 'import migration_guard; print(migration_guard.__file__)' 2>/dev/null)" \
            == "$PWD/src/migration_guard/__init__.py" ]]; then
        return 0
    fi
    # -qq: pip warnings here are mostly this machine's index settings; errors still print.
    echo "installing migration-guard[$extras] into .venv"
    .venv/bin/python -m pip install -qq --disable-pip-version-check -e ".[$extras]" || return 1
    echo "$want" >"$stamp"
}

# True if this machine has PostgreSQL server binaries (for a throwaway server) without any wheel.
has_postgres_binaries() {
    command -v initdb >/dev/null && return 0
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
