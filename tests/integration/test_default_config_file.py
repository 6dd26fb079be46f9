"""`numbers-bot.yml` in the working directory is read when no other file is named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import DEFAULT_CONFIG_FILE, load_settings

YAML = """\
admins: [UBOSS]
approvers: [UCFO, SFINANCE]
approvals: {mode: over_amount, threshold: '3.00', allow_self_approval: true}
holds: {quote_minutes: 7, approval_minutes: 60}
service_plan: {local: {monthly: '1.10', activation: '0.25'}}
"""


@pytest.fixture
def in_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("NUMBERS_BOT_CONFIG", "NUMBERS_BOT_ADMINS", "NUMBERS_BOT_APPROVERS"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / DEFAULT_CONFIG_FILE).write_text(YAML)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_default_file_in_the_working_directory_is_read(in_config_dir: Path) -> None:
    settings = load_settings()
    assert settings.admins == ["UBOSS"]
    assert settings.approvers == ["UCFO", "SFINANCE"]
    assert settings.approvals.mode == "over_amount"
    assert settings.approvals.threshold == Decimal("3.00")
    assert settings.approvals.allow_self_approval is True
    assert (settings.holds.quote_minutes, settings.holds.approval_minutes) == (7, 60)
    local = settings.service_plan.local
    assert (local.monthly, local.activation) == (Decimal("1.10"), Decimal("0.25"))


def test_environment_and_arguments_still_win_over_the_default_file(
    in_config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBERS_BOT_ADMINS", "UENV")
    settings = load_settings(holds={"quote_minutes": 3})
    assert settings.admins == ["UENV"]
    assert settings.holds.quote_minutes == 3
    assert settings.approvers == ["UCFO", "SFINANCE"]


def test_a_named_file_is_read_instead_of_the_default(
    in_config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = in_config_dir / "other.yml"
    other.write_text("admins: [UOTHER]\n")
    monkeypatch.setenv("NUMBERS_BOT_CONFIG", str(other))
    settings = load_settings()
    assert settings.admins == ["UOTHER"]
    assert settings.approvers == []


def test_without_a_file_the_defaults_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMBERS_BOT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.approvals.mode == "always"
    assert settings.holds.quote_minutes == 15
