# Sourced by the scripts: use the active virtualenv, or create and activate .venv, then install the
# package (with the extras given as $1, e.g. "test").
ensure_venv() {
    if [ -z "${VIRTUAL_ENV:-}" ]; then
        if [ ! -x .venv/bin/python ]; then
            python3 -m venv .venv
        fi
        # shellcheck disable=SC1091
        . .venv/bin/activate
    fi
    python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
    if [ -n "${1:-}" ]; then
        python -m pip install --quiet --disable-pip-version-check -e ".[$1]"
    else
        python -m pip install --quiet --disable-pip-version-check -e .
    fi
}
