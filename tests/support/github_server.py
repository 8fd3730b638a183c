"""A local stand-in for GitHub's REST API: the endpoints migration-guard calls, answered the way
GitHub answers them, with every request recorded. No test ever talks to github.com.

    with FakeGitHub() as gh:                 # gh.url goes into GITHUB_API_URL
        ...run the CLI...
        gh.calls("POST")                     # [Call(method, path, query, body), ...]

`prefix="/api/v3"` serves it the way GitHub Enterprise does; `fail_with=403` (or 500) answers every request
with that status; `unreachable_url()` is an address where nothing listens.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
_MESSAGES = {401: "Bad credentials", 403: "Resource not accessible by integration", 404: "Not Found",
             500: "Server Error", 502: "Bad Gateway"}


@dataclass
class Call:
    method: str
    path: str  # without the prefix, e.g. /repos/acme/shop/issues/7/comments
    query: dict
    body: dict | None
    authorization: str | None


@dataclass
class FakeGitHub:
    prefix: str = ""
    fail_with: int | None = None
    token: str | None = None  # when set, any other Authorization gets a 401
    log: list[Call] = field(default_factory=list)
    issue_comments: dict[int, list[dict]] = field(default_factory=dict)
    commit_comments: dict[str, list[dict]] = field(default_factory=dict)
    statuses: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self):
        self._ids = 1000
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls(self, method: str | None = None, path: str = "") -> list[Call]:
        return [c for c in self.log if (method is None or c.method == method) and path in c.path]

    def seed_comment(self, repo: str, number: int, body: str, user: dict | None = None) -> dict:
        with self._lock:
            return self._new_comment(repo, number, body, user or {"login": "octocat", "id": 1, "type": "User"})

    # -- answers ---------------------------------------------------------------------------------------
    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _new_comment(self, repo: str, number: int, body: str, user: dict) -> dict:
        cid = self._next_id()
        item = {"id": cid, "node_id": f"IC_{cid}", "url": f"{self.url}/repos/{repo}/issues/comments/{cid}",
                "html_url": f"https://github.example/{repo}/pull/{number}#issuecomment-{cid}",
                "issue_url": f"{self.url}/repos/{repo}/issues/{number}", "body": body, "user": user,
                "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
        self.issue_comments.setdefault(number, []).append(item)
        return item

    def answer(self, method: str, path: str, query: dict, body: dict | None) -> tuple[int, object, dict]:
        if self.fail_with:
            return self.fail_with, {"message": _MESSAGES.get(self.fail_with, "error")}, {}
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)(/.*)?", path)
        if not m:
            return 404, {"message": "Not Found"}, {}
        repo, rest = m.group(1), m.group(2) or ""
        base = f"{self.url}/repos/{repo}"
        with self._lock:
            if method == "GET" and rest == "":
                return 200, {"id": 1, "name": repo.split("/")[1], "full_name": repo, "url": base}, {}
            if (hit := re.fullmatch(r"/issues/(\d+)", rest)) and method == "GET":
                n = int(hit.group(1))
                return 200, {"id": n, "number": n, "url": f"{base}/issues/{n}", "pull_request": {}}, {}
            if hit := re.fullmatch(r"/issues/(\d+)/comments", rest):
                n = int(hit.group(1))
                if method == "POST":
                    return 201, self._new_comment(repo, n, body["body"], BOT), {}
                if method == "GET":
                    return self._page(self.issue_comments.get(n, []), f"{base}/issues/{n}/comments", query)
            if (hit := re.fullmatch(r"/issues/comments/(\d+)", rest)) and method == "PATCH":
                for items in self.issue_comments.values():
                    for item in items:
                        if item["id"] == int(hit.group(1)):
                            item["body"] = body["body"]
                            return 200, item, {}
                return 404, {"message": "Not Found"}, {}
            if (hit := re.fullmatch(r"/commits/([0-9a-f]+)", rest)) and method == "GET":
                return 200, {"sha": hit.group(1), "url": f"{base}/commits/{hit.group(1)}"}, {}
            if (hit := re.fullmatch(r"/statuses/([0-9a-f]+)", rest)) and method == "POST":
                item = {"id": self._next_id(), "url": f"{base}/statuses/{hit.group(1)}", **body}
                self.statuses.setdefault(hit.group(1), []).append(item)
                return 201, item, {}
            if (hit := re.fullmatch(r"/commits/([0-9a-f]+)/comments", rest)) and method == "POST":
                cid = self._next_id()
                item = {"id": cid, "url": f"{base}/comments/{cid}", "commit_id": hit.group(1), "user": BOT, **body}
                self.commit_comments.setdefault(hit.group(1), []).append(item)
                return 201, item, {}
        return 404, {"message": "Not Found"}, {}

    @staticmethod
    def _page(items: list, url: str, query: dict) -> tuple[int, object, dict]:
        per_page = int(query.get("per_page", 30))
        page = int(query.get("page", 1))
        last = max(1, -(-len(items) // per_page))
        links = []
        if page < last:
            links.append(f'<{url}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{url}?per_page={per_page}&page={last}>; rel="last"')
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, items[(page - 1) * per_page: page * per_page], headers


def _handler(fake: FakeGitHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            if fake.prefix and path.startswith(fake.prefix):
                path = path[len(fake.prefix):]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            auth = self.headers.get("Authorization")
            fake.log.append(Call(self.command, path, query, body, auth))
            if fake.token and auth not in (f"token {fake.token}", f"Bearer {fake.token}"):
                status, payload, headers = 401, {"message": "Bad credentials"}, {}
            else:
                status, payload, headers = fake.answer(self.command, path, query, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, *args) -> None:  # the test reads fake.log, not stderr noise
            pass

    return Handler


def unreachable_url() -> str:
    """An address on this machine where nothing listens (a port just bound and released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
