"""Every contract case runs once per carrier: the simulated one and Kazoo's stand-in.

The supplier part (search, quote, order, status, e911; cases not marked `needs`)
also runs on a carrier that only sells numbers (`numbers_only.py`): a case marked
`needs("holds")` or `needs("phone_system")` is deselected for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.contract.worlds import NumbersOnlyWorld, SimWorld, World, kazoo_world

NUMBERS_ONLY = "numbers-only"


@pytest.fixture(params=["simulated", "kazoo", NUMBERS_ONLY])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    if request.param == "simulated":
        yield SimWorld()
        return
    if request.param == NUMBERS_ONLY:
        yield NumbersOnlyWorld()
        return
    async with kazoo_world() as kazoo:
        yield kazoo


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A carrier that only sells numbers runs the supplier part alone."""
    beyond = [
        item
        for item in items
        if _world(item) == NUMBERS_ONLY and item.get_closest_marker("needs") is not None
    ]
    if beyond:
        config.hook.pytest_deselected(items=beyond)
        items[:] = [item for item in items if item not in beyond]


def _world(item: pytest.Item) -> object:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("world")
