"""JSON logs of a whole purchase flow: one object a line, the request named, no secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.logs import configure_logging
from tests.conftest import ADMIN, MANAGER
from tests.e2e.conftest import CHANNEL, SECRET, TOKEN, BotFactory, result_labels, says

KAZOO_KEY = "kazoo-api-key-never-logged"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


async def test_a_purchase_flow_logs_json_with_request_ids_and_no_secret(
    make_bot: BotFactory, restore_logging: None
) -> None:
    bot = await make_bot(log_format="json", kazoo_api_key=KAZOO_KEY)
    out = io.StringIO()
    # DEBUG: the libraries' own lines (bolt, slack_sdk, aiohttp) are searched too.
    configure_logging(bot.runtime.settings, stream=out, level=logging.DEBUG)
    logging.getLogger("bot.test").info("a bad paste: %s %s", TOKEN, SECRET)

    await bot.open_buy()
    modal = await bot.search("(415)")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])
    await bot.submit_and_wait_card()
    await bot.click_and_wait(ADMIN, "Accept", says(CHANNEL, "awaiting approval"), channel=CHANNEL)
    dm = bot.dm(MANAGER)
    await bot.click_and_wait(MANAGER, "Approve", says(CHANNEL, "Bought 1 number"), channel=dm)

    logged = out.getvalue()
    lines = [json.loads(line) for line in logged.splitlines()]
    assert len(lines) > 20
    for secret in (TOKEN, SECRET, KAZOO_KEY):
        assert secret not in logged
    assert "a bad paste: ********** **********" in [line["message"] for line in lines]
    within = [line for line in lines if line["request_id"]]
    assert within, "no line names its request"
    assert {line["workspace"] for line in within} == {bot.slack.workspace.team_id}
    # Every click got its own id.
    assert len({line["request_id"] for line in within}) >= 4


def test_a_traceback_and_the_database_password_are_masked(restore_logging: None) -> None:
    settings = Settings(
        database_url="postgresql+asyncpg://bot:s3cret-db-pw@db:5432/numbers",
        slack_bot_token="xoxb-1-configured",
        log_format="json",
    )
    out = io.StringIO()
    configure_logging(settings, stream=out)
    log = logging.getLogger("bot.test")
    try:
        raise RuntimeError("connect to postgresql://bot:s3cret-db-pw@db failed, xoxp-123456789-abc")
    except RuntimeError:
        log.exception("token %s did not work", "xoxb-1-configured")
    (line,) = [json.loads(text) for text in out.getvalue().splitlines()]
    assert line["message"] == "token ********** did not work"
    assert "s3cret-db-pw" not in line["error"] and "xoxp-123456789" not in line["error"]
    assert "RuntimeError" in line["error"]


def test_text_logs_mask_secrets_too(restore_logging: None) -> None:
    settings = Settings(slack_signing_secret="signing-secret-123")
    out = io.StringIO()
    configure_logging(settings, stream=out)
    logging.getLogger("bot.test").warning("secret is signing-secret-123")
    assert out.getvalue() == "WARNING bot.test: secret is **********\n"
