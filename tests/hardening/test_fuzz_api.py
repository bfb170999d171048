"""schemathesis against the API's own OpenAPI document: no server errors, and every response
matches the document (status codes, content types, headers and bodies).

Driven through schemathesis' strategies rather than its pytest plugin (which does not yet
follow pytest 9's node API). Both valid data (positive) and invalid data (negative) are sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from config import Settings
from service.api import admin, api
from service.api.spec import openapi_document
from service.app import create_app
from service.runtime import Runtime
from tests.conftest import ClinicHandle
from workers.context import install

EXAMPLES = int(os.environ.get("CHECKIN_FUZZ_EXAMPLES", "40"))


def api_paths() -> dict[str, dict[str, dict[str, object]]]:
    """The documented operations, from a bare app holding only the API's blueprints."""
    bare = Flask("collect")
    bare.register_blueprint(api)
    bare.register_blueprint(admin)
    paths: dict[str, dict[str, dict[str, object]]] = openapi_document(bare)["paths"]
    return paths


CASES = [
    (path, method.upper(), mode)
    for path, operations in api_paths().items()
    for method, operation in operations.items()
    if method in {"get", "post", "put", "patch", "delete"}
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    # Negative data needs something to break: a parameter, a body or the key.
    if mode is GenerationMode.POSITIVE
    or operation.get("parameters")
    or operation.get("requestBody")
    or operation.get("security") != []
]


@pytest.fixture
def fuzzed_app(settings: Settings) -> Iterator[Flask]:
    """The app without the per-key rate limit in the way of a few hundred requests."""
    application = create_app(
        settings.with_overrides(
            api_rate_limit="100000/minute", api_bad_key_rate_limit="100000/minute"
        )
    )
    rt: Runtime = application.extensions["checkin"]
    install(rt)
    yield application
    rt.close()


@pytest.mark.parametrize(("path", "method", "mode"), CASES)
def test_api_matches_its_document(
    fuzzed_app: Flask,
    make_clinic: Callable[..., ClinicHandle],
    path: str,
    method: str,
    mode: GenerationMode,
) -> None:
    clinic = make_clinic()
    with fuzzed_app.test_client() as client:
        patient = client.post(
            "/api/v1/patients", json={"phone": "+12025550123"}, headers=clinic.headers
        ).get_json()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)
    operation = schema[path][method]
    # Ids that exist half of the time, so the routes behind the 404 are reached too.
    known = {"patient_id": patient["id"]} if "{patient_id}" in path else None

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=known))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not os.environ.get("CHECKIN_FUZZ_RANDOM"),  # reproducible by default
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        # A valid phone or time zone cannot be written as a JSON schema, so schema-valid data
        # may rightly be refused (422): that one check is left out; every other one runs.
        # The clinic's key, unless this case is about a missing or bad key.
        key = {} if schema.is_security_param_negated(case) else clinic.headers
        case.call_and_validate(
            headers={**(case.headers or {}), **key},
            excluded_checks=[schemathesis.checks.positive_data_acceptance],
        )

    check()
