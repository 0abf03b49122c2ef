"""The wheel carries the bank and the migrations: install it fresh and play from elsewhere."""

from __future__ import annotations

import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_wheel_installs_and_plays_from_an_unrelated_directory(tmp_path: Path) -> None:
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
            str(REPO),
        ],
        check=True,
        timeout=240,
    )
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # install the wheel itself; its dependencies come from this test run's environment
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(purelib), str(wheel)],
        check=True,
        timeout=240,
    )
    deps = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (purelib / "zz_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import bot, bot.paths as p; print(bot.__file__); print(p.bundled_questions_dir()); "
            "print(p.migrations_dir())",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
    )
    for line in where.stdout.split():
        assert line.startswith(str(purelib)), f"{line} is not inside the installed wheel"
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("bot/_bundled/questions/") and n.endswith(".yaml") for n in names)
    assert "bot/_bundled/questions/schema.json" in names
    assert any(n.startswith("bot/_bundled/migrations/versions/") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "quizbot = bot.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    played = subprocess.run(
        [str(python), "-m", "bot", "play", "--count", "1", "--user", "Wheel"],
        input="A\n",
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=120,
    )
    assert played.returncode == 0, played.stderr
    assert "Session finished" in played.stdout
    assert (elsewhere / "quizbot.db").exists()
