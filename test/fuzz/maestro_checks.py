"""Checks schemathesis adds to its own for Maestro's management API (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis


@schemathesis.check
def maestro_error_shape(ctx, response, case):
    """Every 4xx is Maestro's error shape {code, message, details} with a message saying what was wrong."""
    if not 400 <= response.status_code < 500:
        return None
    try:
        body = response.json()
    except Exception as exc:  # noqa: BLE001 - any undecodable body is the failure we report
        raise AssertionError(f"{response.status_code} body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise AssertionError(f"{response.status_code} body is not an object")
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise AssertionError(f"{response.status_code} without a message")
    if "code" not in body:
        raise AssertionError(f"{response.status_code} without a code")
    return None
