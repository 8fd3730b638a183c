#!/bin/sh
# A container entry point: wait for the database, migrate under the guard, then exec the container's command.
#   Dockerfile   COPY hook/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
#                ENV MIGRATION_GUARD_COMMAND="alembic upgrade head"
#                ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
#                CMD ["gunicorn", "app:app"]
# A database that is still starting (exit code 3: not reachable, or the lock not free in time) is tried
# again, MIGRATION_GUARD_WAIT_ATTEMPTS times in all (default 5), 1, 2, 4, 8... seconds apart (at most 30);
# each try itself waits up to the guard's --connect-timeout. Any other failure stops the container
# before the app starts. As PID 1 this shell traps SIGTERM and SIGINT and passes them to the guard
# (as SIGTERM: a background child starts with SIGINT ignored); after the migration the command
# replaces it and gets the signals itself.
set -u

if [ -z "${MIGRATION_GUARD_COMMAND:-}" ]; then
    echo "migration-guard: error: set MIGRATION_GUARD_COMMAND (e.g. alembic upgrade head)" >&2
    exit 2
fi
attempts="${MIGRATION_GUARD_WAIT_ATTEMPTS:-5}"
case "$attempts" in '' | *[!0-9]*) attempts=5 ;; esac

child=
stopping=
trap 'stopping=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT

run_in_background() {  # runs "$@" as $child and waits for it, signals passed on; sets $code
    "$@" &
    child=$!
    wait "$child"
    code=$?
    while kill -0 "$child" 2>/dev/null; do
        wait "$child"
        code=$?
    done
    child=
}

attempt=1
delay=1
while :; do
    run_in_background migration-guard run -- sh -c "$MIGRATION_GUARD_COMMAND"
    [ -z "$stopping" ] || exit "$code"
    [ "$code" -eq 3 ] && [ "$attempt" -lt "$attempts" ] || break
    echo "migration-guard: database not ready (try $attempt of $attempts); trying again in ${delay}s" >&2
    run_in_background sleep "$delay"
    [ -z "$stopping" ] || exit 143
    attempt=$((attempt + 1))
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
[ "$code" -eq 0 ] || exit "$code"
trap - TERM INT
[ "$#" -gt 0 ] || exit 0
exec "$@"
