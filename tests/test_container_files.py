"""The container files, checked without a Docker engine: the Dockerfile, .dockerignore and
compose.yaml are parsed and held to what the image promises, and the entrypoint script runs
for real with the test environment's own ``quizbot``."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import __version__
from bot.store.migrate import head_revision

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
COMPOSE = REPO / "compose.yaml"
ENTRYPOINT = REPO / "docker" / "entrypoint.sh"
IMAGE_ENTRYPOINT = "/usr/local/bin/quizbot-entrypoint"

# listed as a wheel package in pyproject.toml, deliberately kept out of the build context
LEFT_OUT_OF_IMAGE = {"tests"}


# ---------------------------------------------------------------- a tiny Dockerfile parser


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, or None for shell form."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return value
        return None

    def flags_and_rest(self) -> tuple[dict[str, str], str]:
        """Leading ``--name=value`` flags (COPY --from=..., HEALTHCHECK --interval=...)."""
        flags: dict[str, str] = {}
        rest = self.args.strip()
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, _, value = flag[2:].partition("=")
            flags[name.lower()] = value
            rest = rest.lstrip()
        return flags, rest


def parse_dockerfile(text: str) -> list[list[Instruction]]:
    """The instructions, split into build stages (each starting at FROM)."""
    logical: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue  # blank lines, comments and parser directives
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        logical.append((start, " ".join(part for part in pending if part)))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued line"
    stages: list[list[Instruction]] = []
    for number, line in logical:
        keyword, _, args = line.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip(), number)
        if instruction.keyword == "FROM":
            stages.append([])
        assert stages, f"line {number}: {keyword} before the first FROM"
        stages[-1].append(instruction)
    return stages


@cache
def stages() -> list[list[Instruction]]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def final_stage() -> list[Instruction]:
    return stages()[-1]


def last(stage: list[Instruction], keyword: str) -> Instruction | None:
    found = [i for i in stage if i.keyword == keyword]
    return found[-1] if found else None


def copy_sources(instruction: Instruction) -> list[str]:
    flags, rest = instruction.flags_and_rest()
    if "from" in flags:
        return []
    parts = Instruction(instruction.keyword, rest, instruction.line).exec_form() or shlex.split(rest)
    assert len(parts) >= 2, f"line {instruction.line}: COPY needs a source and a destination"
    return parts[:-1]


def builder_stage() -> list[Instruction]:
    """The stage that builds the project wheel."""
    for stage in stages():
        if any(i.keyword == "RUN" and "pip wheel" in i.args and "--no-deps" in i.args for i in stage):
            return stage
    raise AssertionError("no stage runs `pip wheel --no-deps` to build the project wheel")


def test_the_parser_joins_continuations_and_reads_exec_form() -> None:
    (stage,) = parse_dockerfile(
        'FROM x AS y\n# note\nRUN a \\\n    # inner comment\n    && b\nCMD ["run", "--x"]\nCMD run\n'
    )
    assert [i.keyword for i in stage] == ["FROM", "RUN", "CMD", "CMD"]
    assert stage[1].args == "a && b"
    assert stage[2].exec_form() == ["run", "--x"]
    assert stage[3].exec_form() is None
    assert copy_sources(Instruction("COPY", "--chmod=0755 a b ./c/", 1)) == ["a", "b"]
    assert copy_sources(Instruction("COPY", "--from=builder /w /w", 1)) == []


# ---------------------------------------------------------------- .dockerignore


def _glob_to_regex(pattern: str) -> str:
    """Go filepath.Match plus ``**``, as Docker applies it to context-relative paths."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            assert end > 0, f"unclosed [ in .dockerignore pattern {pattern!r}"
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


@cache
def ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((negate, re.compile(_glob_to_regex(pattern))))
    return rules


def is_ignored(relative: str) -> bool:
    """Whether .dockerignore drops this context path (a pattern on a folder drops its contents)."""
    parts = Path(relative).parts
    ignored = False
    for negate, regex in ignore_rules():
        for depth in range(1, len(parts) + 1):
            if regex.fullmatch("/".join(parts[:depth])):
                ignored = not negate
                break
    return ignored


def test_the_ignore_matcher_follows_docker_rules() -> None:
    assert is_ignored(".git/HEAD")
    assert is_ignored("bot/__pycache__/cli.cpython-311.pyc")
    assert is_ignored("quizbot.db") and is_ignored("data/nested/quizbot.db")
    assert is_ignored(".env")
    assert is_ignored("tests/test_cli.py")
    assert not is_ignored("bot/cli.py")


def test_dockerignore_keeps_local_state_and_caches_out() -> None:
    for path in (".git/config", ".venv/bin/python", "venv/bin/python", "bot/__pycache__/x.pyc", "quizbot.db"):
        assert is_ignored(path), f"{path} would be sent to the Docker build"
    for path in (".env", ".pytest_cache/v", ".mypy_cache/x", ".ruff_cache/x", "tests/conftest.py"):
        assert is_ignored(path), f"{path} would be sent to the Docker build"


def _context_files(source: str) -> list[str]:
    path = REPO / source
    if path.is_file():
        return [source]
    return sorted(
        p.relative_to(REPO).as_posix()
        for p in path.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def test_every_copy_source_exists_and_is_in_the_build_context() -> None:
    sources = [
        (i, s) for stage in stages() for i in stage if i.keyword in {"COPY", "ADD"} for s in copy_sources(i)
    ]
    assert sources, "the Dockerfile copies nothing from the build context"
    for instruction, source in sources:
        assert (REPO / source).exists(), f"Dockerfile line {instruction.line}: {source} does not exist"
        assert not is_ignored(source), f"Dockerfile line {instruction.line}: .dockerignore excludes {source}"
        files = _context_files(source)
        assert files, f"Dockerfile line {instruction.line}: {source} holds no files"
        dropped = [f for f in files if is_ignored(f)]
        assert not dropped, f".dockerignore drops files the build copies: {dropped[:5]}"


def _paths_the_wheel_build_reads() -> dict[str, str]:
    """Context paths hatchling needs for the wheel, from pyproject.toml, with the reason."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    hatch = project["tool"]["hatch"]
    wheel = hatch["build"]["targets"]["wheel"]
    needed = {"pyproject.toml": "the build configuration", project["project"]["readme"]: "project.readme"}
    needed[hatch["version"]["path"]] = "tool.hatch.version.path"
    for package in wheel["packages"]:
        if package not in LEFT_OUT_OF_IMAGE:
            needed[package] = "a wheel package"
    for source in wheel.get("force-include", {}):
        needed[source] = "bundled by force-include"
    return needed


def _copied_before_the_wheel_build(stage: list[Instruction]) -> set[str]:
    copied: set[str] = set()
    for instruction in stage:
        if (
            instruction.keyword == "RUN"
            and "pip wheel" in instruction.args
            and "--no-deps" in instruction.args
        ):
            return copied
        if instruction.keyword in {"COPY", "ADD"}:
            copied.update(os.path.normpath(s) for s in copy_sources(instruction))
    raise AssertionError("the wheel is never built")


def test_the_builder_copies_everything_the_wheel_build_reads() -> None:
    copied = _copied_before_the_wheel_build(builder_stage())
    for path, why in _paths_the_wheel_build_reads().items():
        covered = any(path == c or path.startswith(c.rstrip("/") + "/") or c == "." for c in copied)
        assert covered, f"{path} ({why}) is not copied into the builder before `pip wheel`"
        assert not is_ignored(path), f"{path} ({why}) is excluded by .dockerignore"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_wheel_builds_from_exactly_what_the_builder_copies(tmp_path: Path) -> None:
    context = tmp_path / "src"
    for source in _copied_before_the_wheel_build(builder_stage()):
        for relative in _context_files(source):
            if not is_ignored(relative):
                target = context / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes((REPO / relative).read_bytes())
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            ".",
        ],
        check=True,
        cwd=context,
        timeout=240,
    )
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/cli.py" in names
    assert any(n.startswith("bot/_bundled/questions/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("bot/_bundled/migrations/versions/") for n in names)
    assert not [n for n in names if n.startswith("tests/")], "the image's wheel carries the test suite"


# ---------------------------------------------------------------- the final image


def test_the_final_stage_is_slim_python_311_and_installs_tzdata() -> None:
    base = final_stage()[0].args.split()
    assert base[0] == "python:3.11-slim"
    runs = [i.args for i in final_stage() if i.keyword == "RUN"]
    apt = [r for r in runs if "apt-get install" in r]
    assert apt, "the final stage installs nothing with apt-get"
    assert any(re.search(r"\btzdata\b", r) for r in apt), "tzdata is not installed"
    for command in apt:
        assert "rm -rf /var/lib/apt/lists" in command, "apt lists are left in the layer"


def test_the_final_stage_holds_no_source_tree() -> None:
    for instruction in final_stage():
        if instruction.keyword in {"COPY", "ADD"}:
            for source in copy_sources(instruction):
                assert source == "docker/entrypoint.sh", (
                    f"line {instruction.line}: the final stage copies {source} from the source tree"
                )


def test_the_bot_runs_as_an_unprivileged_user() -> None:
    user = last(final_stage(), "USER")
    assert user is not None, "the final stage has no USER, so the bot runs as root"
    name, _, group = user.args.partition(":")
    assert name not in {"root", "0"}, f"USER {user.args}"
    assert group not in {"root", "0"}, f"USER {user.args}"
    healthcheck = last(final_stage(), "HEALTHCHECK")
    entrypoint = last(final_stage(), "ENTRYPOINT")
    assert healthcheck is not None and entrypoint is not None
    assert user.line < entrypoint.line, "USER comes after ENTRYPOINT"


def test_data_lives_in_a_volume_owned_by_the_bot_user() -> None:
    volume = last(final_stage(), "VOLUME")
    assert volume is not None, "no VOLUME"
    paths = volume.exec_form() or volume.args.split()
    assert "/data" in paths
    workdir = last(final_stage(), "WORKDIR")
    assert workdir is not None and workdir.args == "/data"
    user = last(final_stage(), "USER")
    assert user is not None
    name = user.args.partition(":")[0]
    chown = [
        i for i in final_stage() if i.keyword == "RUN" and re.search(rf"chown .*{name}\S* /data\b", i.args)
    ]
    assert chown, f"/data is not chowned to {name}"
    assert chown[-1].line < volume.line, "changes to /data after VOLUME are discarded"


def test_the_database_defaults_to_the_data_volume() -> None:
    env = " ".join(i.args for i in final_stage() if i.keyword == "ENV")
    match = re.search(r"QUIZBOT_DATABASE_URL[= ](\S+)", env)
    assert match, "QUIZBOT_DATABASE_URL is not set in the image"
    from bot.config import load_settings

    settings = load_settings({"QUIZBOT_DATABASE_URL": match.group(1)}, env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:////data/quizbot.db"
    assert re.search(r"PYTHONUNBUFFERED[= ]1\b", env)
    assert re.search(r"PIP_NO_CACHE_DIR[= ]1\b", env)


def test_healthcheck_runs_quizbot_health_in_exec_form() -> None:
    healthcheck = last(final_stage(), "HEALTHCHECK")
    assert healthcheck is not None, "no HEALTHCHECK"
    flags, rest = healthcheck.flags_and_rest()
    keyword, _, command = rest.partition(" ")
    assert keyword.upper() == "CMD", f"HEALTHCHECK {healthcheck.args}"
    argv = Instruction("CMD", command, healthcheck.line).exec_form()
    assert argv is not None, "HEALTHCHECK CMD is in shell form"
    assert argv[:2] == ["quizbot", "health"]
    assert {"interval", "timeout", "retries"} <= flags.keys()


def test_entrypoint_and_cmd_are_exec_form() -> None:
    entrypoint = last(final_stage(), "ENTRYPOINT")
    cmd = last(final_stage(), "CMD")
    assert entrypoint is not None and cmd is not None
    assert entrypoint.exec_form() == [IMAGE_ENTRYPOINT], "ENTRYPOINT must be a JSON array (exec form)"
    assert cmd.exec_form() == ["run"]
    copies = [i for i in final_stage() if i.keyword == "COPY" and "docker/entrypoint.sh" in copy_sources(i)]
    assert copies, "the entrypoint script is not copied into the image"
    flags, rest = copies[-1].flags_and_rest()
    assert shlex.split(rest)[-1] == IMAGE_ENTRYPOINT
    assert flags.get("chmod", "") in {"0755", "755", "+x"} or os.access(ENTRYPOINT, os.X_OK)


# ---------------------------------------------------------------- the entrypoint script


def test_entrypoint_script_is_strict_posix_sh_and_execs_quizbot() -> None:
    assert os.access(ENTRYPOINT, os.X_OK), "docker/entrypoint.sh is not executable"
    lines = [
        line.strip()
        for line in ENTRYPOINT.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert "set -eu" in lines
    assert lines[-1] == 'exec quizbot "$@"'
    assert lines.index("quizbot db upgrade") < lines.index('exec quizbot "$@"')
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True, timeout=30)


def _entrypoint_env(tmp_path: Path, database_url: str, path_first: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QUIZBOT_", "DISCORD_", "SLACK_", "PYTHONPATH"))
    }
    env["PATH"] = f"{path_first}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    env["QUIZBOT_DATABASE_URL"] = database_url
    env["HOME"] = str(tmp_path)
    return env


@pytest.mark.slow
def test_entrypoint_migrates_then_runs_the_command(tmp_path: Path) -> None:
    database = tmp_path / "quizbot.db"
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "quizbot").exists(), "the test environment has no quizbot command"
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_entrypoint_env(tmp_path, f"sqlite+aiosqlite:///{database}", bin_dir),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"quizbot {__version__}" in result.stdout
    assert result.stdout.index("database at revision") < result.stdout.index(f"quizbot {__version__}")
    with sqlite3.connect(database) as connection:
        revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
    assert revisions == [head_revision()]


@pytest.mark.slow
def test_entrypoint_stops_when_the_migration_fails(tmp_path: Path) -> None:
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_entrypoint_env(tmp_path, "mysql://nowhere/quizbot", Path(sys.executable).parent),
        timeout=120,
    )
    assert result.returncode != 0
    assert "QUIZBOT_DATABASE_URL" in result.stderr
    assert __version__ not in result.stdout, "the command ran although the migration failed"


def test_entrypoint_defaults_to_run_and_execs_in_place(tmp_path: Path) -> None:
    """With a stand-in quizbot: `run` by default, arguments passed through, the last one exec'd."""
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    log = tmp_path / "calls.log"
    stub = stub_dir / "quizbot"
    stub.write_text(f'#!/bin/sh\necho "$$ $*" >> {shlex.quote(str(log))}\n', encoding="utf-8")
    stub.chmod(0o755)
    env = _entrypoint_env(tmp_path, "sqlite:///unused.db", stub_dir)

    process = subprocess.Popen(["sh", str(ENTRYPOINT)], cwd=tmp_path, env=env)
    assert process.wait(timeout=30) == 0
    calls = [line.split(" ", 1) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [args for _, args in calls] == ["db upgrade", "run"]
    assert calls[0][0] != str(process.pid), "the migration should run as a child process"
    assert calls[1][0] == str(process.pid), "quizbot is not exec'd, so SIGTERM would not reach it"

    log.unlink()
    subprocess.run(["sh", str(ENTRYPOINT), "play", "--locale", "pt-BR"], cwd=tmp_path, env=env, check=True)
    assert [line.split(" ", 1)[1] for line in log.read_text(encoding="utf-8").splitlines()] == [
        "db upgrade",
        "play --locale pt-BR",
    ]


# ---------------------------------------------------------------- compose.yaml


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _volume_targets(service: dict[str, Any]) -> dict[str, str]:
    targets = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            targets[rest.split(":")[0]] = source
        else:
            targets[volume["target"]] = volume.get("source", "")
    return targets


def test_compose_bot_keeps_its_data_in_a_named_volume() -> None:
    bot = compose()["services"]["bot"]
    assert bot["build"] in (".", {"context": "."})
    targets = _volume_targets(bot)
    assert "/data" in targets, "the bot's /data is not a volume, so the database dies with the container"
    assert targets["/data"] in compose().get("volumes", {}), "/data is not a named volume"
    assert bot["restart"] == "unless-stopped"
    assert bot["stop_grace_period"] == "30s"


def test_compose_reads_settings_from_an_optional_env_file() -> None:
    env_files = compose()["services"]["bot"]["env_file"]
    assert {"path": ".env", "required": False} in env_files


def test_compose_postgres_is_optional_and_healthchecked() -> None:
    postgres = compose()["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert postgres.get("profiles") == ["postgres"], "postgres would start with every `docker compose up`"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "/var/lib/postgresql/data" in _volume_targets(postgres)
    depends = compose()["services"]["bot"].get("depends_on", {})
    if "postgres" in depends:
        assert depends["postgres"].get("required") is False, "the bot would need the postgres profile"


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return dict(environment)


def test_compose_has_no_hard_coded_secrets() -> None:
    for name, service in compose()["services"].items():
        for key, value in _environment(service).items():
            if any(word in key.upper() for word in ("TOKEN", "SECRET", "PASSWORD", "KEY")):
                literal = value not in (None, "") and not str(value).startswith("${")
                assert not literal, f"{name}: {key} is hard-coded in compose.yaml; put it in .env"
            if key == "QUIZBOT_DATABASE_URL":
                assert "@" not in str(value) or "${" in str(value), (
                    f"{name}: a database password in compose.yaml"
                )
