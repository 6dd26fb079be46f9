"""The production files (Dockerfile, compose.yaml, deploy/haproxy.cfg) say what the README says.

Docker is not run here; these checks catch the mistakes a reader would not see.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def test_the_image_is_slim_python_and_never_runs_as_root() -> None:
    instructions = _instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users, "the Dockerfile names no USER, so the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users
    # The USER comes after everything that needs root (installing).
    last_run = max(i for i, (k, _) in enumerate(instructions) if k == "RUN")
    last_user = max(i for i, (k, _) in enumerate(instructions) if k == "USER")
    assert last_user > last_run
    (cmd,) = [rest for keyword, rest in instructions if keyword == "CMD"]
    assert cmd == '["numbers-bot", "serve"]'
    assert any(k == "HEALTHCHECK" and "/ready" in rest for k, rest in instructions)


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_two_replicas_over_postgresql_16_behind_a_balancer() -> None:
    services = _compose()["services"]
    replicas = [name for name, s in services.items() if "command" not in s and s.get("build")]
    assert sorted(replicas) == ["app1", "app2"]
    for name in replicas:
        service = services[name]
        env = service["environment"]
        assert env["NUMBERS_BOT_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@db:5432/" in env["NUMBERS_BOT_DATABASE_URL"]
        assert "/ready" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["stop_grace_period"] == "12s"
    assert services["db"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["migrate"]["command"] == ["numbers-bot", "migrate"]
    assert "migrate" not in services["migrate"]["depends_on"]
    balancer = services["lb"]
    assert {"app1", "app2"} <= set(balancer["depends_on"])
    mounted = balancer["volumes"][0].split(":")[0]
    assert (ROOT / mounted).is_file()


def test_the_balancer_round_robins_over_both_replicas_checked_on_ready() -> None:
    text = (ROOT / "deploy/haproxy.cfg").read_text()
    words = [line.split("#")[0].split() for line in text.splitlines()]
    words = [line for line in words if line]
    assert ["balance", "roundrobin"] in words
    assert ["option", "httpchk", "GET", "/ready"] in words
    servers = {line[1]: line[2] for line in words if line[0] == "server"}
    assert servers == {"app1": "app1:3000", "app2": "app2:3000"}
    bind = next(line for line in words if line[0] == "bind")
    ports = _compose()["services"]["lb"]["ports"]
    assert ports == [f"8080{bind[1]}"]
