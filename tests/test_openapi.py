"""The OpenAPI document matches the API's real responses (schemathesis generates the requests)."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.test_access import bearer


def test_the_api_answers_as_its_openapi_document_says(sqlite_app):
    headers = bearer(sqlite_app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", sqlite_app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True
        )
        def check(case):
            # A request can match the schema and still break the import rules (an ISBN's check digit, a
            # book type's spelling): bookapp answers 422 there, so "schema-valid means accepted" does not hold.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
        checked.append(operation.label)
    assert len(checked) >= 12, checked


def test_the_document_is_served_without_a_token(sqlite_app):
    document = sqlite_app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.") and "/imports/{import_id}/undo" in document["paths"]
