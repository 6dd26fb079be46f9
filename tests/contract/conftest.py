"""Every contract case runs once per carrier: the simulated one and Kazoo's stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.contract.worlds import SimWorld, World, kazoo_world


@pytest.fixture(params=["simulated", "kazoo"])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    if request.param == "simulated":
        yield SimWorld()
        return
    async with kazoo_world() as kazoo:
        yield kazoo
