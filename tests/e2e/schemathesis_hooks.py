"""Schemathesis hooks for tests/e2e/test_openapi.py (loaded through SCHEMATHESIS_HOOKS).

Images for the image parts and bodies: real JPEG and PNG files (random bytes labelled
image/jpeg are not images, and the document says the parts are images).

JSON parts of a multipart body are sent as one JSON document each, as their `encoding` says
(schemathesis 4.32 would send an array of strings as repeated plain-text parts).

Two rules of the prediction API cannot be written in JSON Schema, so the fuzzer is told them
here, each narrowly:

- A model's inputs must share one batch size (JSON Schema cannot relate the lengths of two
  properties): a 400 InvalidInput to a body whose inputs' batch sizes differ is not counted
  as a failure.
- schemathesis 4.32 sometimes sends a valid image upload for a case it generated as invalid
  (its file samples replace the generated parts), then reports the 200 as "schema-violating
  request accepted": such a report is dropped when the multipart body actually sent has
  exactly the documented parts and they are all binary (any bytes fit a binary part).
- A request that sets X-Request-Timeout-Ms asks to be answered 504 DeadlineExceeded when its
  budget runs out (the generator tries 0 and 1 ms): that answer is not counted as a failure.
  A 504 to a request without the header, or any other 5xx, still is.
"""

import email.parser
import email.policy
import json
import pathlib

import schemathesis
from hypothesis import strategies as st

SAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "samples"

schemathesis.openapi.media_type("image/jpeg", st.sampled_from([p.read_bytes() for p in sorted(SAMPLES.glob("*.jpg"))]))
schemathesis.openapi.media_type("image/png", st.sampled_from([p.read_bytes() for p in sorted(SAMPLES.glob("*.png"))]))


def _schema_rank(schema):
    """The nesting depth of a JSON input's batch form (the first branch of its anyOf)."""
    if "anyOf" in schema:
        schema = schema["anyOf"][0]
    rank = 0
    while isinstance(schema, dict) and schema.get("type") == "array":
        rank += 1
        schema = schema.get("items")
    return rank


def _depth(value):
    depth = 0
    while isinstance(value, list) and value:
        depth += 1
        value = value[0]
    return depth


def _input_ranks(operation):
    content = operation.definition.raw.get("requestBody", {}).get("content", {})
    schema = content.get("multipart/form-data", {}).get("schema", {})
    return {name: _schema_rank(member) for name, member in schema.get("properties", {}).items()}


def _batches_differ(operation, body):
    if not isinstance(body, dict):
        return False
    ranks = _input_ranks(operation)
    batches = set()
    for name, value in body.items():
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                continue
        rank = ranks.get(name, 0)
        if rank >= 2 and isinstance(value, list):
            batches.add(len(value) if _depth(value) >= rank else 1)
    return len(batches) > 1


def _sent_parts_are_documented(operation, request):
    content_type = request.headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data") or not isinstance(request.body, bytes):
        return False
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + request.body)
    names = sorted(part.get_param("name", header="content-disposition") for part in message.iter_parts())
    schema = operation.definition.raw["requestBody"]["content"]["multipart/form-data"]["schema"]
    binary = all(member.get("format") == "binary" for member in schema["properties"].values())
    return binary and names == sorted(schema["required"])


@schemathesis.hook
def filter_failure(context, failure, case, response):
    """Drops only the three kinds of report described above; any other failure stands."""
    kind = type(failure).__name__
    if kind == "AcceptedNegativeData":
        return not (response.status_code == 200 and _sent_parts_are_documented(case.operation, response.request))
    try:
        error_type = json.loads(response.content).get("type")
    except (ValueError, AttributeError):
        return True
    if kind in ("ServerError", "RejectedPositiveData") and response.status_code == 504 and error_type == "DeadlineExceeded":
        return "X-Request-Timeout-Ms" not in (case.headers or {})
    if kind == "RejectedPositiveData" and response.status_code == 400 and error_type == "InvalidInput":
        return not _batches_differ(case.operation, case.body)
    return True


@schemathesis.hook
def map_case(context, case):
    if not (case.media_type or "").startswith("multipart/") or not isinstance(case.body, dict):
        return case
    encoding = context.operation.definition.raw["requestBody"]["content"]["multipart/form-data"].get("encoding", {})
    for name, value in list(case.body.items()):
        if encoding.get(name, {}).get("contentType") == "application/json" and not isinstance(value, (str, bytes)):
            case.body[name] = json.dumps(value)
    return case
