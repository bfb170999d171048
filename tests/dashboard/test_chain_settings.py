"""Admins set the escalation chain's backup phones and the paging numbers on the dashboard."""

from __future__ import annotations

from service.db import Clinic
from service.runtime import Runtime
from tests.conftest import ClinicHandle
from tests.dashboard.support import Staff, html


def test_backup_phones_and_paging_numbers_are_set_in_order(
    admin: Staff, clinic: ClinicHandle, runtime: Runtime
) -> None:
    page = html(admin.get("/settings"))
    assert 'name="backup_phones"' in page and 'name="repage_after_seconds"' in page
    form = {
        "on_call_phone": "+15005550001",
        "backup_phones": "(202) 555-0102\n+12025550101",
        "repage_after_seconds": "120",
        "page_rounds": "2",
    }
    assert admin.post("/settings", form).status_code == 302
    with runtime.sessions() as session:
        row = session.get(Clinic, clinic.id)
        assert row is not None
        assert row.backup_phones == ["+12025550102", "+12025550101"]
        assert row.policy is not None
        assert (row.policy["repage_after_seconds"], row.policy["page_rounds"]) == (120, 2)
    page = html(admin.get("/settings"))
    assert "+12025550102\n+12025550101" in page and 'value="120"' in page
    # Without the field the chain is kept; a bad phone is named and nothing changes.
    assert admin.post("/settings", {"on_call_phone": "+15005550001"}).status_code == 302
    bad = admin.post("/settings", {"on_call_phone": "+15005550001", "backup_phones": "nope"})
    assert bad.status_code == 422 and 'id="backup_phones-error"' in html(bad)
    with runtime.sessions() as session:
        row = session.get(Clinic, clinic.id)
        assert row is not None and row.backup_phones == ["+12025550102", "+12025550101"]
