"""Request bodies checked against Kazoo's JSON schemas (tests/data/kazoo, see its README)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "kazoo"


@cache
def validator(name: str) -> Draft4Validator:
    """`phone_numbers`, `find_numbers` (Kazoo's) or a local one (`callflows`, ...)."""
    for folder in ("schemas", "local"):
        path = DATA / folder / f"{name}.json"
        if path.exists():
            schema = json.loads(path.read_text())
            Draft4Validator.check_schema(schema)
            return Draft4Validator(schema, format_checker=FormatChecker())
    raise FileNotFoundError(name)


def errors(name: str, value: Any) -> dict[str, dict[str, dict[str, str]]]:
    """Kazoo's validation error shape: `{"e911.region": {"maxLength": {"message": ...}}}`."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for error in validator(name).iter_errors(value):
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [r for r in error.validator_value if r not in error.instance]
            path = ".".join(p for p in (path, missing[0] if missing else "") if p)
        found.setdefault(path or "body", {})[str(error.validator)] = {"message": error.message}
    return found
