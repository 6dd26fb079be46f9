"""A `Buy Numbers` submission that fails unexpectedly can be pressed again and works."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from tests.conftest import ADMIN
from tests.e2e.conftest import Harness, result_labels, text_of


async def test_a_failed_submission_is_given_back_and_the_retry_posts_the_card(
    bot: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.handlers.errors")
    purchases = bot.runtime.services.purchases
    real = purchases.request_purchase
    calls: list[int] = []

    async def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("connection reset by peer")  # not a NumbersBotError
        return await real(*args, **kwargs)

    monkeypatch.setattr(purchases, "request_purchase", fails_once)
    await bot.open_buy()
    modal = await bot.search("415")
    await bot.driver.check(ADMIN, result_labels(modal)[:1])

    failed = await bot.driver.submit(ADMIN)
    # The modal stays open and says so, in words; nothing was requested or posted.
    assert failed.outcome == "errors", failed.problem
    # An unexpected error shows a short reference, and the log line with the traceback
    # carries the same one.
    [said] = failed.errors.values()
    reference = re.search(r"Something went wrong on our side \(reference `(\w+)`\)", said)
    assert reference is not None, said
    logged = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert await purchases.list_requests(bot.actor(), "all") == []

    # The same submission pressed again (same view id and hash) is not dropped as a repeat.
    card = await bot.submit_and_wait_card()
    assert "Accept" in text_of(card)
    assert len(calls) == 2
    assert len(await purchases.list_requests(bot.actor(), "all")) == 1
