"""Every question of the bank fits Slack's Block Kit limits, in both languages."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.slack import blocks
from bot.adapters.slack.settings import load_slack_settings
from bot.config import SettingsError
from bot.engine import QuestionCard
from bot.engine.cards import (
    Accuracy,
    FeedbackCard,
    LeaderboardCard,
    LeaderboardEntry,
    OptionTally,
    RevealCard,
    ShownOption,
    StatsCard,
)
from bot.engine.model import Period, Scope
from bot.engine.questions import QuestionBank


def texts(block: Any) -> list[tuple[str, str]]:
    """(kind, text) of every text object inside a block tree."""
    found = []
    if isinstance(block, dict):
        if block.get("type") in ("mrkdwn", "plain_text") and "text" in block:
            found.append((block["type"], block["text"]))
        for value in block.values():
            found += texts(value)
    elif isinstance(block, list):
        for value in block:
            found += texts(value)
    return found


def check_message(message: list[dict[str, Any]]) -> None:
    assert len(message) <= blocks.MESSAGE_BLOCKS
    for block in message:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for element in block["elements"]:
                assert len(element["text"]["text"]) <= 75 and len(element["action_id"]) <= 255
                assert len(element["value"]) <= 2000


def test_every_question_renders_within_slack_limits(bank: QuestionBank) -> None:
    deadline = datetime(2026, 11, 26, tzinfo=UTC)
    for question in bank.all_including_retired():
        for locale in ("en", "pt-BR"):
            text = question.text(locale)
            options = tuple(
                ShownOption("ABCDEF"[i], text.options[k], k in question.answer, text.why_wrong.get(k))
                for i, k in enumerate(question.option_keys)
            )
            card = QuestionCard(
                10**12,
                question.id,
                question.task,
                question.objective,
                text.stem,
                options,
                question.select_count,
                deadline,
                locale,
            )
            check_message(blocks.question_blocks(card))
            letters = tuple(o.letter for o in options if o.correct)
            feedback = FeedbackCard(
                1,
                question.id,
                False,
                letters,
                letters,
                options,
                text.why,
                question.references,
                locale,
                session_id=3,
            )
            check_message(blocks.feedback_blocks(feedback))
            reveal = RevealCard(
                1,
                question.id,
                text.stem,
                tuple(OptionTally(o.letter, o.text, o.correct, 4) for o in options),
                letters,
                40,
                tuple(f"Learner {n}" for n in range(10)),
                30,
                text.why,
                tuple((o.letter, o.why_wrong) for o in options if o.why_wrong),
                question.references,
                "slack:C1:1.2",
                locale,
            )
            check_message(blocks.reveal_blocks(reveal))
            check_message(blocks.closed_question_blocks(reveal))
            if question.type == "multiple":
                view = blocks.multi_answer_view(
                    card, {"round": 1, "channel": "C1", "count": card.select_count}
                )
                assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= 100
                for option in view["blocks"][-1]["element"]["options"]:
                    assert len(option["text"]["text"]) <= 150
                check_message([b for b in view["blocks"] if b["type"] == "section"])


def test_names_cannot_become_mentions() -> None:
    reveal = RevealCard(
        1,
        "q",
        "stem",
        (OptionTally("A", "x", True, 1),),
        ("A",),
        1,
        ("<!channel> & co",),
        0,
        "why",
        (),
        ("https://docs.aws.amazon.com/",),
        None,
        "en",
    )
    body = json.dumps(blocks.reveal_blocks(reveal))
    assert "<!channel>" not in body and "&lt;!channel&gt; &amp; co" in body


def test_app_home_stays_within_100_blocks() -> None:
    stats = StatsCard("Ana", 10, 7, (Accuracy("3.1", 5, 4),), (Accuracy("3.1.a", 5, 4),), 2, 5, None, "pt-BR")
    board = LeaderboardCard(
        Scope.WORKSPACE,
        Period.WEEK,
        "2026-W48",
        tuple(LeaderboardEntry(n + 1, f"L{n}", 10 - n, n == 3) for n in range(10)),
        0,
        4,
        7,
        12,
        "pt-BR",
    )
    view = blocks.home_view(stats, board)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert any("Praticar agora" in text for _, text in texts(view))
    assert len(json.dumps(view)) < 250_000


def test_slack_settings() -> None:
    one = load_slack_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": "http://x/api",
            "SLACK_ADMIN_USER_IDS": "U1, U2",
        }
    )
    assert one is not None and not one.multi_workspace and not one.socket_mode
    assert one.api_url == "http://x/api/" and one.admin_user_ids == ("U1", "U2")
    assert "xoxb-1" not in repr(one) and "'s'" not in repr(one)
    socket = load_slack_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket is not None and socket.socket_mode
    many = load_slack_settings(
        {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "c", "SLACK_SIGNING_SECRET": "s"}
    )
    assert many is not None and many.multi_workspace
    assert load_slack_settings({}) is None
    for bad, name in [
        ({"SLACK_BOT_TOKEN": "xoxp-1", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_CLIENT_ID": "1"}, "SLACK_CLIENT_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN"),
    ]:
        with pytest.raises(SettingsError, match=name):
            load_slack_settings(bad)


def test_manifest_matches_what_the_app_uses(repo_root: Any) -> None:
    import yaml

    from bot.adapters.slack.settings import DEFAULT_SCOPES

    manifest = yaml.safe_load((repo_root / "slack" / "manifest.yml").read_text(encoding="utf-8"))
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/quiz"]
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(DEFAULT_SCOPES)
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    for url in (
        manifest["settings"]["interactivity"]["request_url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["features"]["slash_commands"][0]["url"],
    ):
        assert url.endswith("/slack/events")
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")


@pytest.mark.parametrize("question_type", ["single", "multiple"])
def test_a_question_at_every_schema_maximum_still_renders(bank: QuestionBank, question_type: str) -> None:
    from tests.helpers.extreme import extreme_question

    question = extreme_question(bank, question_type)
    text = question.text("en")
    options = tuple(
        ShownOption("ABCDEF"[i], text.options[k], k in question.answer, text.why_wrong.get(k))
        for i, k in enumerate(question.option_keys)
    )
    letters = tuple(o.letter for o in options if o.correct)
    card = QuestionCard(
        1,
        question.id,
        question.task,
        question.objective,
        text.stem,
        options,
        question.select_count,
        datetime(2026, 1, 1, tzinfo=UTC),
        "en",
    )
    check_message(blocks.question_blocks(card))
    check_message(
        blocks.feedback_blocks(
            FeedbackCard(
                1,
                question.id,
                False,
                letters,
                letters,
                options,
                text.why,
                question.references,
                "en",
                session_id=1,
            )
        )
    )
    reveal = RevealCard(
        1,
        question.id,
        text.stem,
        tuple(OptionTally(o.letter, o.text, o.correct, 9) for o in options),
        letters,
        99,
        tuple("N" * 80 for _ in range(10)),
        89,
        text.why,
        tuple((o.letter, o.why_wrong) for o in options if o.why_wrong),
        question.references,
        None,
        "en",
    )
    check_message(blocks.reveal_blocks(reveal))
    if question_type == "multiple":
        view = blocks.multi_answer_view(card, {"round": 1, "channel": "C1", "count": 3})
        assert all(len(o["text"]["text"]) <= 150 for o in view["blocks"][-1]["element"]["options"])
