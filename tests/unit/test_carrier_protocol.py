"""The carrier interface never sees the database (issue 7, item 1)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from bot.backends import carrier as carrier_module
from bot.backends.carrier import (
    Directory,
    Holds,
    InventorySource,
    NumberSupplier,
    PhoneSystem,
)
from bot.backends.kazoo import KazooCarrier

CAPABILITIES = (NumberSupplier, Holds, PhoneSystem, InventorySource, Directory)

ROOT = Path(__file__).resolve().parents[2]


def carrier_methods(*capabilities: type) -> dict[str, inspect.Signature]:
    """The methods of every capability a carrier may bring (or of those named)."""
    return {
        name: inspect.signature(member)
        for capability in capabilities or CAPABILITIES
        for name, member in vars(capability).items()
        if inspect.iscoroutinefunction(member)
    }


def test_no_carrier_method_takes_a_unit_of_work() -> None:
    methods = carrier_methods()

    assert {"search", "reserve", "order", "number_status", "route", "move", "release"} <= set(
        methods
    )
    for name, signature in methods.items():
        for param in signature.parameters.values():
            assert "uow" not in param.name, name
            assert "UnitOfWork" not in str(param.annotation), name


def test_the_carrier_modules_do_not_import_storage() -> None:
    for path in (ROOT / "bot" / "backends").glob("*.py"):
        if path.name not in ("carrier.py",) and not path.name.startswith("kazoo"):
            continue
        tree = ast.parse(path.read_text())
        imported = [
            n.module if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in (n.names if isinstance(n, ast.Import) else [n])
        ]
        assert not any(str(m).startswith("storage") for m in imported), path.name


def test_kazoo_carrier_has_every_carrier_method() -> None:
    kazoo = carrier_methods(NumberSupplier, Holds, PhoneSystem, InventorySource)
    for name, signature in kazoo.items():
        assert inspect.signature(getattr(KazooCarrier, name)).parameters.keys() == (
            signature.parameters.keys()
        ), name
    assert carrier_module.__doc__ and "unit of work" in carrier_module.__doc__
