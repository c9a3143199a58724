"""The TypeScript types a portal generates from openapi/openapi.json (openapi-typescript)
type-check a portal's script under `tsc --strict` (tests/client/ts/portal.ts), whose
`@ts-expect-error` lines hold the types to the document's promises: nullable is `T | null`,
always-present fields are required, enums are closed, Twilio's callbacks are absent."""

from __future__ import annotations

from tests.client.conftest import TS_DIR, run


def test_the_types_are_generated_without_a_warning(typescript_types):
    assert "warn" not in typescript_types.output.lower(), typescript_types.output
    assert (typescript_types.directory / "touchbase.d.ts").stat().st_size > 10_000


def test_the_portal_script_type_checks_under_tsc_strict(typescript_types, node_modules):
    output = run([str(node_modules / ".bin" / "tsc"), "--project", str(TS_DIR)], cwd=TS_DIR)

    assert output.strip() == ""
