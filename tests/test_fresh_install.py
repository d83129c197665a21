"""A fresh install serves (issue 19): the README's first command, in a new venv.

`python3 -m venv .venv && .venv/bin/pip install -q -e .` installs with the pip the venv
ships (23.x on Python 3.11), which resolves extras differently from a current pip: it did
not match jusText's `lxml[html_clean]` to lxml's `html-clean` extra, so no
`lxml_html_clean` was installed and `briefbot serve` and `briefbot add` died at start-up.
The test venv (`./scripts/test`) may hold more than a fresh install does, so this builds
one the README's way, once, and checks that every module of `bot` and `handlers` imports
and that the server's and `add`'s start-up get past their imports.

It resolves from the package index as a user's install does: 55-80 s on this project's
machine with a warm pip cache (most of it pip), about two minutes with a cold one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_S = 120  # python -m venv (it runs ensurepip)
INSTALL_S = 600  # pip resolving, downloading and installing everything
RUN_S = 120  # each command in the new venv

pytestmark = [pytest.mark.fresh_install, pytest.mark.timeout(VENV_S + INSTALL_S + 5 * RUN_S)]

IMPORT_ALL = """
import importlib, pkgutil, sys
import bot, handlers
failed = []
def note(name):
    failed.append(f"{name}: {sys.exc_info()[0].__name__}: {sys.exc_info()[1]}")
for package in (bot, handlers):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".", onerror=note):
        if info.name.rpartition(".")[2] == "__main__":  # runs the command line
            continue
        try:
            importlib.import_module(info.name)
        except Exception:
            note(info.name)
print("\\n".join(failed) or "all imported")
sys.exit(1 if failed else 0)
"""


def _run(args: list[str | Path], timeout: float, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, check=False, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A venv made and filled the way the README's first command does it (no pip upgrade)."""
    venv = tmp_path_factory.mktemp("fresh") / ".venv"
    made = _run([sys.executable, "-m", "venv", venv], VENV_S)
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("VIRTUAL_ENV", None)
    installed = _run([venv / "bin" / "pip", "install", "-q", "-e", "."], INSTALL_S,
                     cwd=ROOT, env=env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    yield venv


def _clean_env(home: Path) -> dict[str, str]:
    """No tokens, no settings from this machine: what a new user has."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
            "BRIEFBOT_DATA_DIR": str(home / "data"), "BRIEFBOT_SEEDS_DIR": str(ROOT / "seeds")}


def test_the_venv_uses_the_pip_it_ships(fresh_venv: Path) -> None:
    """The check means something only if pip was not upgraded in between."""
    bundled = _run([fresh_venv / "bin" / "python", "-c",
                    "import ensurepip, pip; print(ensurepip.version(), pip.__version__)"],
                   RUN_S)
    shipped, running = bundled.stdout.split()
    assert shipped == running, bundled.stdout


def test_every_module_of_bot_and_handlers_imports(fresh_venv: Path) -> None:
    out = _run([fresh_venv / "bin" / "python", "-c", IMPORT_ALL], RUN_S, cwd=fresh_venv.parent)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_readme_question_is_answered(fresh_venv: Path, tmp_path: Path) -> None:
    """The rest of the README's first command."""
    out = _run([fresh_venv / "bin" / "briefbot", "ask", "who is Tertitskiy"], RUN_S,
               cwd=tmp_path, env=_clean_env(tmp_path))
    assert out.returncode == 0 and out.stdout.startswith("# Fyodor Tertitskiy\n"), (
        out.stdout + out.stderr)


def test_serve_and_add_start(fresh_venv: Path, tmp_path: Path) -> None:
    """`--help` for both, then each for real, as far as it goes without a token or the
    network: `serve` stops with one line (no platform), `add` refuses a loopback address,
    both after importing everything they run on (an import error would be a traceback)."""
    briefbot = fresh_venv / "bin" / "briefbot"
    env = _clean_env(tmp_path)
    for command in ("serve", "add"):
        helped = _run([briefbot, command, "--help"], RUN_S, cwd=tmp_path, env=env)
        assert helped.returncode == 0 and f"usage: briefbot {command}" in helped.stdout, (
            helped.stdout + helped.stderr)
    served = _run([briefbot, "serve"], RUN_S, cwd=tmp_path, env=env)
    assert served.returncode == 2, served.stdout + served.stderr
    assert "Traceback" not in served.stderr and served.stderr.startswith("briefbot: serve:"), (
        served.stderr)
    added = _run([briefbot, "add", "http://127.0.0.1:9/"], RUN_S, cwd=tmp_path, env=env)
    assert added.returncode == 1, added.stdout + added.stderr
    assert "Traceback" not in added.stderr and added.stderr.startswith(
        "briefbot add: Refused: 127.0.0.1 is a loopback address"), added.stderr
