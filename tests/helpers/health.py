"""`quizbot health` run the way an operator or Docker's HEALTHCHECK runs it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path


async def health(env: dict[str, str], cwd: Path) -> tuple[int | None, str]:
    """``quizbot health`` as an operator (or Docker's HEALTHCHECK) runs it: exit status, output."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "health"),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, out.decode()
