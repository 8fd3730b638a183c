#!/bin/sh
# Render: the guarded migration, in the build command or the pre-deploy command.
#   render.yaml   buildCommand: pip install -r requirements.txt && sh hook/render-build.sh alembic upgrade head
#            or   preDeployCommand: sh hook/render-build.sh alembic upgrade head
# With no arguments the command is MIGRATION_GUARD_COMMAND. Render names the commit and the repository
# (RENDER_GIT_COMMIT, RENDER_GIT_REPO_SLUG); with GITHUB_TOKEN among the service's environment variables,
# the guard posts a commit status and, when something happened, a commit comment with the report.
# Its exit code is the guard's: a refused or failed migration fails the build, and Render keeps the
# running deploy.
set -eu

if [ "$#" -eq 0 ]; then
    if [ -z "${MIGRATION_GUARD_COMMAND:-}" ]; then
        echo "migration-guard: error: give the migration command (sh hook/render-build.sh alembic upgrade head)" \
            "or set MIGRATION_GUARD_COMMAND" >&2
        exit 2
    fi
    set -- sh -c "$MIGRATION_GUARD_COMMAND"
fi
exec migration-guard run -- "$@"
