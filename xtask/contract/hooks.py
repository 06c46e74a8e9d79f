"""Schemathesis hooks for `cargo xtask test` (see shared/tests/it/contract.rs)."""

import schemathesis

ALIASES = (("sort", "sort_by"), ("order", "sort_order"), ("q", "search"), ("tag", "tags"))


@schemathesis.hook
def filter_case(context, case):
    # A body that is not UTF-8 but declared as JSON never reaches our
    # functions under `cargo lambda watch` 1.9.2: its trigger router decodes
    # such bodies with String::from_utf8 and answers 500 itself
    # (crates/cargo-lambda-watch/src/trigger_router.rs). API Gateway passes
    # them on base64-encoded, and the functions answer 400: that is tested in
    # shared/tests/it/rejections.rs with a base64 event.
    # `sort_by`, `sort_order`, `search` and `tags` are other names of `sort`,
    # `order`, `q` and `tag`: both names in one request is a 400 by design,
    # which OpenAPI cannot say, so such cases are not generated as valid.
    query = case.query or {}
    if any(a in query and b in query for a, b in ALIASES):
        return False
    body = case.body
    if isinstance(body, (bytes, bytearray)):
        try:
            bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True
