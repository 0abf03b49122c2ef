"""Settings: defaults, .env files, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DATABASE_URL, SettingsError, load_settings, parse_dotenv


def test_defaults_need_nothing(tmp_path: Path) -> None:
    settings = load_settings({}, env_file=tmp_path / "missing.env")
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///quizbot.db"
    assert settings.locale == "en"
    assert settings.questions_dirs == ()


def test_env_file_under_the_environment(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    extra = tmp_path / "bank"
    extra.mkdir()
    env.write_text(
        "# comment\nexport QUIZBOT_LOCALE=pt-br\nQUIZBOT_DATABASE_URL='postgresql://u:p@db/quiz'\n"
        f"QUIZBOT_QUESTIONS_DIRS={extra}\nDISCORD_TOKEN=abc.def  # inline comment\n",
        encoding="utf-8",
    )
    settings = load_settings({"QUIZBOT_LOCALE": "en"}, env_file=env)
    assert settings.locale == "en"  # the real environment wins over .env
    assert settings.database_url == "postgresql+asyncpg://u:p@db/quiz"
    assert settings.questions_dirs == (extra,)
    assert settings.extra["DISCORD_TOKEN"] == "abc.def"
    assert "abc.def" not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("QUIZBOT_DATABASE_URL", "mysql://x"),
        ("QUIZBOT_LOCALE", "fr"),
        ("QUIZBOT_QUESTIONS_DIRS", "/no/such/dir"),
        ("QUIZBOT_LOG_LEVEL", "LOUD"),
        ("QUIZBOT_LOG_FORMAT", "xml"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({variable: value}, env_file=None)


def test_malformed_env_line_is_reported_with_its_number() -> None:
    with pytest.raises(SettingsError, match="line 2"):
        parse_dotenv("A=1\nthis is not a setting\n")


def test_database_url_error_never_echoes_a_password() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"QUIZBOT_DATABASE_URL": "mysql://user:s3cret@host/db"}, env_file=None)
    assert "s3cret" not in str(error.value)


def test_the_database_password_is_a_secret_on_its_own_too() -> None:
    url = "postgresql://quiz:pw%2Fwith%40marks@db:5432/quiz"
    settings = load_settings({"QUIZBOT_DATABASE_URL": url, "SLACK_SIGNING_SECRET": "sig"}, env_file=None)
    assert set(settings.secrets) == {
        "sig",
        "postgresql+asyncpg://quiz:pw%2Fwith%40marks@db:5432/quiz",
        "pw%2Fwith%40marks",
        "pw/with@marks",
    }
    assert load_settings({}, env_file=None).secrets == [DEFAULT_DATABASE_URL]


def test_daily_grace_setting() -> None:
    assert load_settings({}, env_file=None).daily_grace_minutes == 120
    assert load_settings({"QUIZBOT_DAILY_GRACE_MINUTES": "30"}, env_file=None).daily_grace_minutes == 30
    with pytest.raises(SettingsError, match="QUIZBOT_DAILY_GRACE_MINUTES"):
        load_settings({"QUIZBOT_DAILY_GRACE_MINUTES": "two hours"}, env_file=None)
