"""`quizbot run` as a real subprocess pointed at the fake Discord, the way an operator
starts it (environment only), and stopped the way a service manager stops it (SIGTERM)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.fakes.discord_server import FakeDiscord

REPO = Path(__file__).resolve().parents[2]


def discord_env(fake: FakeDiscord, database_url: str, **extra: str) -> dict[str, str]:
    """Discord only, unless ``extra`` configures Slack too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return env | {
        "PYTHONPATH": str(REPO),
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE_URL": f"{fake.url}/api/v10",
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "QUIZBOT_DATABASE_URL": database_url,
        **extra,
    }


async def start_run(env: dict[str, str], cwd: Path, *arguments: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "run", *arguments),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def stop_run(process: asyncio.subprocess.Process, timeout: float = 30) -> tuple[int | None, str]:  # noqa: ASYNC109
    """SIGTERM, then the exit status and everything it wrote."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode() + err.decode()


def identified(fake: FakeDiscord) -> int:
    """How many gateway sessions have identified (op 2) so far."""
    return len([p for p in fake.gateway_received if p.get("op") == 2])
