#!/bin/sh
# Railway: migrate under the guard, then become the app.
#   railway.json   {"deploy": {"startCommand": "sh hook/railway-start.sh gunicorn app:app"}}
#   variable       MIGRATION_GUARD_COMMAND=alembic upgrade head
# The app is exec'd, so it is the process Railway signals when it stops the deploy. A SIGTERM that
# arrives while the migration runs goes to the guard, which passes it on to the migration; the app then
# never starts and the exit code is 143. A refused or failed migration exits 1 without starting the app,
# and Railway keeps the previous deploy. Railway names the commit (RAILWAY_GIT_COMMIT_SHA,
# RAILWAY_GIT_REPO_OWNER, RAILWAY_GIT_REPO_NAME); with GITHUB_TOKEN set, the guard reports to it.
set -u

if [ "$#" -eq 0 ] || [ -z "${MIGRATION_GUARD_COMMAND:-}" ]; then
    echo "migration-guard: error: usage: MIGRATION_GUARD_COMMAND='alembic upgrade head'" \
        "sh hook/railway-start.sh APP [ARGS...]" >&2
    exit 2
fi

migration-guard run -- sh -c "$MIGRATION_GUARD_COMMAND" &
guard=$!
# A background child starts with SIGINT ignored, so both signals reach it as SIGTERM.
trap 'kill -TERM "$guard" 2>/dev/null' TERM INT
wait "$guard"
code=$?
while kill -0 "$guard" 2>/dev/null; do  # the wait was cut short by a signal: the guard is still stopping
    wait "$guard"
    code=$?
done
trap - TERM INT
[ "$code" -eq 0 ] || exit "$code"
exec "$@"
