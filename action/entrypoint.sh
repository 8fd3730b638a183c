#!/bin/sh
# The GitHub Action's entry point: the Docker image's ENTRYPOINT, and the last step of the composite action.
# action.yml hands each input over as MG_INPUT_<NAME>; this turns them into migration-guard's options.
# Everything GitHub-specific (outputs, job summary, annotations, the pull-request comment) is done by the
# CLI itself, so this stays a thin wrapper and a plain workflow step gets the same.
set -u

fail() {
    echo "::error::migration-guard: $1"
    exit 2
}

mode="${MG_INPUT_MODE:-run}"
fail_on="${MG_INPUT_FAIL_ON:-failure}"
case "$mode" in run | check) ;; *) fail "mode must be run or check, not '$mode'" ;; esac
case "$fail_on" in failure | prediction | never) ;; *) fail "fail-on must be failure, prediction or never, not '$fail_on'" ;; esac
[ -n "${MG_INPUT_COMMAND:-}" ] || fail "the command input is required, e.g. command: alembic upgrade head"

if [ -n "${MG_INPUT_WORKING_DIRECTORY:-}" ]; then
    cd "$MG_INPUT_WORKING_DIRECTORY" || fail "working-directory '$MG_INPUT_WORKING_DIRECTORY' does not exist"
fi

set -- "$mode"
if [ -n "${MG_INPUT_DEDUPE:-}" ]; then
    set -- "$@" --dedupe "$MG_INPUT_DEDUPE"
fi
case "${MG_INPUT_COMMENT:-on}" in
off | false | no | 0) set -- "$@" --no-github-comment ;;
esac
if [ -n "${MG_INPUT_DATABASE_URL:-}" ]; then
    # By environment, not as an option: any process on the machine can read another's arguments.
    export MIGRATION_GUARD_DATABASE_URL="$MG_INPUT_DATABASE_URL"
    # The command connects through its own configuration, which most projects read from DATABASE_URL.
    if [ -z "${DATABASE_URL:-}" ]; then
        export DATABASE_URL="$MG_INPUT_DATABASE_URL"
    fi
fi
if [ -n "${MG_INPUT_GITHUB_TOKEN:-}" ]; then
    export GITHUB_TOKEN="$MG_INPUT_GITHUB_TOKEN"
fi

# In the Docker action this shell is PID 1, which the kernel shields from signals it does not trap: a
# cancelled job must still stop the migration, so the guard runs as a child and hears what we hear.
# SIGINT is passed on as SIGTERM because a background child starts with SIGINT ignored.
migration-guard "$@" -- sh -c "$MG_INPUT_COMMAND" &
guard=$!
trap 'kill -TERM "$guard" 2>/dev/null' TERM INT
wait "$guard"
code=$?
while kill -0 "$guard" 2>/dev/null; do
    wait "$guard"
    code=$?
done

# 1 is the migration's outcome (failed, refused; in check mode a predicted failure). 2 (configuration)
# and 3 (no database) always fail the step: they say the deploy itself is broken.
if [ "$code" -eq 1 ]; then
    if [ "$fail_on" = never ] || { [ "$fail_on" = failure ] && [ "$mode" = check ]; }; then
        code=0
    fi
fi
exit "$code"
