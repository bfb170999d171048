"""docker-compose.yml and the README: what can be checked without a Docker engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_has_the_four_services_with_health_checks_and_variables() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "redis", "postgres"} <= set(services)
    for name in ("web", "worker", "redis", "postgres"):
        assert "healthcheck" in services[name], name
    assert "--appendonly" in services["redis"]["command"]
    web = " ".join(services["web"]["command"])
    assert "gunicorn 'service.wsgi:app'" in web
    assert "checkin worker" in " ".join(services["worker"]["command"])
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["REDIS_URL"].startswith("redis://redis:")
    # The commands the compose file runs exist in the project.
    assert shutil.which("gunicorn") or (ROOT / ".venv/bin/gunicorn").exists()
    import importlib.util

    spec = importlib.util.find_spec("service.wsgi")
    assert spec is not None and spec.origin is not None
    assert "app = create_app()" in Path(spec.origin).read_text()


def test_readme_opens_with_the_two_commands() -> None:
    lines = [line for line in (ROOT / "README.md").read_text().splitlines() if line.strip()]
    block = lines[lines.index("```sh") + 1 : lines.index("```sh") + 3]
    assert block[0].startswith("make run")
    assert block[1].startswith("make test")
    makefile = (ROOT / "Makefile").read_text()
    assert "\nrun:" in makefile and "\ntest:" in makefile
