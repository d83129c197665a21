"""`briefbot reload`: the server running on this host re-reads the seeds.

`post_local_reload` is also how `briefbot add` asks that server to reload.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.cli.common import print_text
from bot.settings import Settings, load_settings


class NoServer(Exception):
    """No local server to ask: `str(exc)` says why, `hint` what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def post_local_reload(settings: Settings, timeout: float,
                      body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """POST /admin/reload to the server on this host with its admin token: (status, body).
    `body` (JSON) asks it to record files with the reload (`briefbot add`). Raises NoServer
    (token missing, unreadable, or nobody answering)."""
    import urllib.error
    import urllib.request

    from bot.admin import RELOAD_PATH, token_path

    path = token_path(settings)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise NoServer(f"no admin token at {path}: no briefbot server is running with this "
                        f"BRIEFBOT_DATA_DIR", "start one with `briefbot serve` (it reads the "
                        "seeds at start), or set BRIEFBOT_DATA_DIR to the server's.") from None
    except OSError as exc:
        raise NoServer(f"cannot read the admin token {path} ({exc.strerror})",
                        "run this as the user that runs the server.") from None
    url = f"http://127.0.0.1:{settings.port}{RELOAD_PATH}"
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode()
                                     if body else b"", headers={
                                         "Authorization": f"Bearer {token}",
                                         "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NoServer(f"no briefbot server answers on 127.0.0.1:{settings.port} "
                        f"({reason})", "start one with `briefbot serve` (it reads the seeds "
                        "at start).") from None


def cmd_reload(args: argparse.Namespace) -> int:
    """Ask the server running on this host to reload (POST /admin/reload on its port, with
    the admin token it wrote to BRIEFBOT_DATA_DIR/admin.token)."""
    try:
        status, body = post_local_reload(load_settings(), args.timeout)
    except NoServer as exc:
        print(f"briefbot reload: {exc}; {exc.hint}", file=sys.stderr)
        return 1
    print_text(body.get("text") or f"HTTP {status}")
    return 0 if status == 200 else 1


def register(sub: argparse._SubParsersAction) -> None:
    """reload."""
    p = sub.add_parser("reload", help="make the server running on this host re-read the seeds")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the report")
    p.set_defaults(func=cmd_reload)
