"""The PyGithub client for the API that GITHUB_API_URL names (github.com or GitHub Enterprise), and
plain words for why a call to it failed.

Deploys must not wait on GitHub: a short timeout, and retries only where they cannot duplicate anything
(a refused connection, or a 502/503/504 to a GET or PATCH).
"""

from __future__ import annotations

from migration_guard import __version__

DEFAULT_API_URL = "https://api.github.com"
TIMEOUT_S = 10


def api_url(env: dict) -> str:
    return (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")


def token(env: dict) -> str | None:
    return env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None


def connect(env: dict, secret: str):
    from github import Auth, Github
    from urllib3.util.retry import Retry

    retry = Retry(total=2, connect=2, read=0, status=2, backoff_factor=0.5,
                  status_forcelist=(502, 503, 504), allowed_methods=frozenset({"GET", "PATCH"}),
                  raise_on_status=False)
    # lazy: objects are addressed by URL without fetching them first, so a comment costs a list and a
    # write, not a GET of the repository and the issue as well.
    return Github(auth=Auth.Token(secret), base_url=api_url(env), timeout=TIMEOUT_S, retry=retry, per_page=100,
                  seconds_between_requests=None, seconds_between_writes=None, lazy=True,
                  user_agent=f"migration-guard/{__version__}")


def explain(exc: BaseException, env: dict, permission: str) -> str:
    """Why the call failed, in one clause. `permission` is what the token needs for this call."""
    import requests
    from github import GithubException

    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        said = f" ({data['message']})" if data.get("message") else ""
        why = f"GitHub answered {exc.status}{said}"
        if exc.status == 401:
            return why + ": the token was not accepted"
        if exc.status == 403:
            return why + f": the token needs `{permission}`"
        if exc.status == 404:
            return why + ": the token cannot see the repository (or it has no such pull request or commit)"
        return why
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer from {api_url(env)} within {TIMEOUT_S} s"
    if isinstance(exc, requests.exceptions.RetryError):
        return f"{api_url(env)} kept answering with a server error"
    if isinstance(exc, requests.exceptions.RequestException):
        return f"cannot reach {api_url(env)}"
    return f"{type(exc).__name__}: {exc}"
