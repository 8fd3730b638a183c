# The image of the GitHub Docker action (action.yml): migration-guard installed from this repository,
# with the action's entry script as its entry point.
# The base is pinned to an exact Python release, so a rebuild gets the same interpreter.
FROM python:3.12.8-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY templates ./templates
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12.8-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Installed from the wheels of the build stage, mounted rather than copied, so they add no layer.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl
COPY --chmod=755 action/entrypoint.sh /usr/local/bin/migration-guard-action
# Not root. uid 1001 is the `runner` user of GitHub-hosted runners, which owns the mounted workspace
# and the files behind GITHUB_OUTPUT and GITHUB_STEP_SUMMARY; any other uid could not write them.
RUN useradd --uid 1001 --create-home --shell /usr/sbin/nologin guard
USER 1001
ENTRYPOINT ["/usr/local/bin/migration-guard-action"]
