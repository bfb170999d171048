"""docker-compose.yml and the README: what can be checked without a Docker engine."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_has_the_four_services_with_health_checks_and_variables() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "redis", "postgres"} <= set(services)
    for name in ("web", "worker", "redis", "postgres"):
        assert "healthcheck" in services[name], name
    assert "--appendonly" in services["redis"]["command"]
    # web runs the image's entry point, gunicorn, on the WSGI app; worker runs `checkin worker`.
    assert services["web"]["command"][0] == "service.wsgi:app"
    assert services["worker"]["entrypoint"] + services["worker"]["command"] == [
        "checkin",
        "worker",
    ]
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


# -- the image and the compose file that builds it ---------------------------------------
def _dockerfile() -> list[dict[str, Any]]:
    from dockerfile_parse import DockerfileParser

    parsed = DockerfileParser(path=str(ROOT / "Dockerfile"))
    return [i for i in parsed.structure if i["instruction"] != "COMMENT"]


def _stages(instructions: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    stages: list[list[dict[str, Any]]] = []
    for item in instructions:
        if item["instruction"] == "FROM":
            stages.append([])
        stages[-1].append(item)
    return stages


def _last(stage: list[dict[str, Any]], instruction: str) -> str:
    values = [i["value"] for i in stage if i["instruction"] == instruction]
    assert values, f"no {instruction} in the final stage"
    return str(values[-1])


def test_dockerfile_is_multi_stage_non_root_installed_at_build_with_gunicorn() -> None:
    stages = _stages(_dockerfile())
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    # The package is installed at build time, in the build stage, and copied over.
    build_runs = " ".join(i["value"] for i in build if i["instruction"] == "RUN")
    assert "pip install" in build_runs and "--no-deps ." in build_runs
    assert not any(i["instruction"] == "RUN" and "pip install" in i["value"] for i in final)
    assert any(i["instruction"] == "COPY" and i["value"].startswith("--from=") for i in final)
    # Nothing of the source tree is bind-mounted or copied into the final stage.
    assert not any(
        i["instruction"] == "COPY" and not i["value"].startswith("--from=") for i in final
    )
    user = _last(final, "USER").split(":")[0]
    assert user not in {"root", "0"}
    assert any(f"--uid {user}" in i["value"] for i in final if i["instruction"] == "RUN")
    assert json.loads(_last(final, "ENTRYPOINT")) == ["gunicorn"]
    assert json.loads(_last(final, "CMD"))[0] == "service.wsgi:app"
    assert "/healthz" in _last(final, "HEALTHCHECK")


def test_dockerfile_requirement_extraction_reads_our_dependencies() -> None:
    run = next(i["value"] for i in _dockerfile() if "tomllib" in i["value"])
    script = run.split('python -c "', 1)[1].split('" >', 1)[0].replace("\\n", "\\\\n")
    done = subprocess.run(
        [sys.executable, "-c", script.replace("\\\\n", "\\n")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert any(line.startswith("flask") for line in done.stdout.splitlines())
    assert any(line.startswith("gunicorn") for line in done.stdout.splitlines())


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    done = subprocess.run(
        [hadolint, "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerignore_keeps_the_venv_and_instance_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "instance", ".git"} <= set(ignored)


def test_compose_builds_the_image_migrates_once_and_restarts() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    app_services = ("migrate", "web", "worker")
    for name in app_services:
        service = services[name]
        assert service.get("build") == ".", name  # the image, not python:3.11-slim + pip
        assert "image" not in service or not service["image"].startswith("python:"), name
        assert "command" not in service or "pip install" not in str(service["command"])
        assert all(not str(v).startswith((".:", "./:")) for v in service.get("volumes", []))
    # The migration runs once, and the others wait for it to have succeeded.
    migrate = services["migrate"]
    assert migrate["entrypoint"] == ["checkin"] and migrate["command"] == ["db", "upgrade"]
    assert migrate["restart"] == "no"
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[name]["restart"] in {"unless-stopped", "always"}
    for name in ("postgres", "redis"):
        assert services[name]["restart"] in {"unless-stopped", "always"}
    # web: the image's gunicorn entry point; worker: checkin worker.
    assert "entrypoint" not in services["web"]
    assert services["web"]["command"][0] == "service.wsgi:app"
    assert services["worker"]["entrypoint"] == ["checkin"]
    assert services["worker"]["command"] == ["worker"]


def test_compose_worker_health_check_is_the_rq_heartbeat() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    test = services["worker"]["healthcheck"]["test"]
    assert test == ["CMD", "checkin", "worker", "--check"]
    # The command exists and is the heartbeat check (tests/ops/test_doctor.py runs it
    # against a real worker process).
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "worker", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "--check" in done.stdout and "heartbeat" in done.stdout
