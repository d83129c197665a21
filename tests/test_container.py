"""Dockerfile and compose.yaml, checked without a Docker engine.

hadolint lints the Dockerfile; everything the two files name (paths, commands, variables,
ports, the health check) is checked against the repository, the CLI and the settings.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from aiohttp import web
from sqlalchemy.engine import make_url

from bot.app import SHUTDOWN_GRACE_S, make_web_app
from bot.cli import build_parser
from bot.cli.server import cmd_doctor, cmd_serve
from bot.context import AppContext
from bot.engine.holder import IndexHolder
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
SETTINGS_VARS = {
    field.validation_alias
    for field in Settings.model_fields.values()
    if isinstance(field.validation_alias, str)
}
# Variables read by Python and pip themselves, not by briefbot.
TOOL_VARS = {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR",
             "PIP_DISABLE_PIP_VERSION_CHECK"}
# Variables of the official postgres image, and the one compose interpolates for both.
POSTGRES_VARS = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, args in instructions():
        if name == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"use the exec (JSON) form: {args}"
    return value


def only(name: str) -> str:
    [args] = [a for n, a in instructions() if n == name]
    return args


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip().lstrip("/") for line in lines if line.strip() and
            not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """True when .dockerignore keeps `relative` (or a folder above it) out of the context."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        candidates = [pattern, pattern.removeprefix("**/")]
        hit = any(
            fnmatch.fnmatchcase(prefix, cand) or (
                pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.rsplit("/", 1)[-1], cand)
            )
            for prefix in prefixes
            for cand in candidates
        )
        if hit:
            excluded = not negate
    return excluded


# --- the Dockerfile -------------------------------------------------------------------


def test_hadolint_passes():
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(hadolint).exists(), "install the test extra: pip install -e '.[test]'"
    proc = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_slim_base_non_root_user_and_dependency_layer():
    steps = instructions()
    names = [n for n, _ in steps]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", only("FROM"))
    assert only("USER").split(":")[0] not in {"root", "0"}
    first_copy = next(a for n, a in steps if n == "COPY")
    assert first_copy.split()[0] == "pyproject.toml", "dependencies before the source"
    install_deps = next(i for i, (n, a) in enumerate(steps) if n == "RUN" and "pip install" in a)
    copy_code = next(i for i, (n, a) in enumerate(steps) if n == "COPY" and a.startswith("bot "))
    assert install_deps < copy_code
    assert names.index("USER") > names.index("RUN")  # installs run as root, the bot does not


def test_every_copied_path_exists_and_reaches_the_build_context():
    patterns = dockerignore_patterns()
    for name, args in instructions():
        if name != "COPY":
            continue
        *sources, _dest = args.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path"
            assert not ignored(source, patterns), f".dockerignore excludes {source}"
            if (ROOT / source).is_dir():
                for path in (ROOT / source).rglob("*"):
                    rel = path.relative_to(ROOT).as_posix()
                    if path.is_file() and "__pycache__" not in rel:
                        assert not ignored(rel, patterns), f".dockerignore excludes {rel}"
    assert ignored(".env", patterns) and ignored(".venv/bin/python", patterns)
    assert ignored("bot/__pycache__/app.cpython-311.pyc", patterns)


def test_package_metadata_files_are_copied():
    """`pip install .` needs pyproject.toml and the readme it names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    copied = {src for n, a in instructions() if n == "COPY" for src in a.split()[:-1]}
    assert {"pyproject.toml", project["readme"], "bot", "handlers", "seeds"} <= copied


def test_env_volumes_and_port_match_the_settings(monkeypatch, tmp_path):
    env = dockerfile_env()
    for key in env:
        assert key in SETTINGS_VARS | TOOL_VARS, f"ENV {key} is read by nothing"
    volumes = exec_form(only("VOLUME"))
    assert env["BRIEFBOT_SEEDS_DIR"] in volumes and env["BRIEFBOT_DATA_DIR"] in volumes
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings()
    assert str(settings.seeds_dir) == env["BRIEFBOT_SEEDS_DIR"]
    assert only("EXPOSE") == str(settings.port) == str(Settings.model_fields["port"].default)


def test_entrypoint_and_cmd_are_briefbot_serve_auto():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"]
    entry = exec_form(only("ENTRYPOINT"))
    cmd = exec_form(only("CMD"))
    assert entry == ["briefbot"] and "briefbot" in scripts
    args = build_parser().parse_args(cmd)
    assert args.func is cmd_serve and args.auto


def _healthcheck_argv() -> list[str]:
    args = only("HEALTHCHECK")
    assert "CMD" in args
    argv = exec_form(args.split("CMD", 1)[1].strip())
    assert argv[:2] == ["python", "-c"]
    return argv


async def _run_healthcheck(port: int) -> int:
    code = _healthcheck_argv()[2]
    env = {**os.environ, "BRIEFBOT_PORT": str(port)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(proc.wait(), 15)


async def test_healthcheck_command_against_the_real_server(settings, seed_index):
    ctx = AppContext(settings=settings, index=IndexHolder(seed_index, version=1))
    runner = web.AppRunner(make_web_app(ctx, []))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        assert await _run_healthcheck(port) == 0
        ctx.intake.close()  # shutting down: /healthz answers 503
        assert await _run_healthcheck(port) != 0
    finally:
        await runner.cleanup()
    assert await _run_healthcheck(port) != 0  # nothing listening


# --- compose.yaml ---------------------------------------------------------------------


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration))


def _interpolate(value: str) -> str:
    """Compose's ${VAR:-default} with the defaults (nothing from the environment)."""
    return re.sub(r"\$\{(\w+)(?::?-([^}]*))?\}", lambda m: m.group(2) or "", value)


def test_compose_bot_and_postgres():
    doc = compose()
    bot, postgres = doc["services"]["bot"], doc["services"]["postgres"]
    assert bot["deploy"]["replicas"] == 2
    assert "container_name" not in bot  # would clash between replicas
    assert (ROOT / bot["build"]).is_dir() and (ROOT / bot["build"] / "Dockerfile").is_file()
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in postgres
    assert _seconds(bot["stop_grace_period"]) > SHUTDOWN_GRACE_S
    for named in (v.split(":")[0] for v in postgres["volumes"]):
        assert named in doc["volumes"]


def test_compose_paths_and_command_exist():
    bot = compose()["services"]["bot"]
    volumes = exec_form(only("VOLUME"))
    for mount in bot["volumes"]:
        host, container = mount.split(":")[:2]
        assert (ROOT / host).is_dir(), f"{host} does not exist"
        assert container in volumes
    args = build_parser().parse_args(bot["command"])
    assert args.func is cmd_serve and args.auto
    header = [line for line in COMPOSE.read_text(encoding="utf-8").splitlines()
              if line.startswith("#")]
    assert any("run --rm bot doctor" in line for line in header)
    assert build_parser().parse_args(["doctor"]).func is cmd_doctor


def test_compose_variables_exist_and_database_url_is_valid(monkeypatch, tmp_path):
    doc = compose()
    bot, postgres = doc["services"]["bot"], doc["services"]["postgres"]
    text = COMPOSE.read_text(encoding="utf-8")
    for name in re.findall(r"\$\{(\w+)", text):
        assert name in SETTINGS_VARS | POSTGRES_VARS, f"${{{name}}} is read by nothing"
    for name in bot["environment"]:
        assert name in SETTINGS_VARS, f"bot environment {name} is not a setting"
    assert set(postgres["environment"]) == POSTGRES_VARS

    monkeypatch.chdir(tmp_path)
    for key, value in bot["environment"].items():
        monkeypatch.setenv(key, _interpolate(str(value)))
    settings = load_settings()
    url = make_url(settings.resolved_database_url)
    pg = {k: _interpolate(v) for k, v in postgres["environment"].items()}
    assert url.drivername == "postgresql+asyncpg"
    assert url.host == "postgres" and url.port == 5432
    assert (url.username, url.password, url.database) == (
        pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
    assert settings.log_json is True



def test_readme_configuration_table_matches_the_settings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE))
    assert documented == SETTINGS_VARS


def test_the_image_sets_host_and_data_dir_the_defaults_are_for_outside_it(monkeypatch):
    """Outside a container the defaults are loopback and the user's data directory; the image
    names both, so it listens on every address and keeps its data on the volume."""
    from platformdirs import user_data_path

    env = dockerfile_env()
    assert env["BRIEFBOT_HOST"] == "0.0.0.0" and env["BRIEFBOT_DATA_DIR"] == "/app/data"
    for name in ("BRIEFBOT_HOST", "BRIEFBOT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.host == "127.0.0.1"
    assert settings.data_dir == user_data_path("briefbot", appauthor=False)
