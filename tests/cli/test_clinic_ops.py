"""`checkin clinic list` and `checkin clinic whatsapp-template`."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from service.cli import cli


def test_clinic_list_and_whatsapp_template(
    settings: Any, monkeypatch: Any, clinic: Any, make_clinic: Any
) -> None:
    monkeypatch.setenv("CHECKIN_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    make_clinic(name="Other Clinic", phone="+12025550111")
    runner = CliRunner()
    listed = runner.invoke(cli, ["clinic", "list"], catch_exceptions=False)
    assert listed.exit_code == 0
    lines = listed.stdout.strip().splitlines()
    assert lines[0].startswith(f"{clinic.id}\tRiverside Neurology\t(shared number)")
    assert "Other Clinic\t+12025550111" in lines[1]
    assert "ck_" not in listed.stdout
    sid = "HX" + "d" * 32
    done = runner.invoke(cli, ["clinic", "whatsapp-template", str(clinic.id), "es", sid])
    assert done.exit_code == 0 and done.stdout.strip() == f'{{"es": "{sid}"}}'
    as_json = runner.invoke(cli, ["clinic", "list", "--json"]).stdout.splitlines()
    assert sid in as_json[0]
    bad = runner.invoke(cli, ["clinic", "whatsapp-template", str(clinic.id), "es", "HXnope"])
    assert bad.exit_code == 2
