"""What dbaas-local's OpenAPI document cannot say in JSON Schema, taught to schemathesis.

Loaded by tests/openapi_schemathesis.rs (SCHEMATHESIS_HOOKS=hooks). Each rule here is also
stated in words in the document (`/v1/openapi.json`), and enforced by the service with a 400
naming the field; these hooks only keep the generator's *valid* examples valid.
"""

import ipaddress
import time

import requests
import schemathesis
from hypothesis import strategies as st


def _network(address_bits, prefix, version):
    """The network of `prefix` bits whose address starts with `address_bits`: host bits zero."""
    width = 32 if version == 4 else 128
    address = (address_bits >> (width - prefix) << (width - prefix)) if prefix else 0
    network = ipaddress.ip_network((address, prefix)) if version == 4 else ipaddress.IPv6Network((address, prefix))
    return str(network)


# `format: cidr`: an IPv4 or IPv6 network whose host bits are zero (the document's words).
schemathesis.openapi.format(
    "cidr",
    st.one_of(
        st.builds(lambda a, p: _network(a, p, 4), st.integers(0, 2**32 - 1), st.integers(0, 32)),
        st.builds(lambda a, p: _network(a, p, 6), st.integers(0, 2**128 - 1), st.integers(0, 128)),
    ),
)


def _creates_index(context):
    operation = context.operation
    return (
        operation is not None
        and operation.method.upper() == "POST"
        and operation.path.endswith("/collections/{collection}/indexes")
    )


@schemathesis.hook
def filter_case(context, case):
    """An index lists each field once, whatever the directions, is not the implicit
    [{_id: 1}], and has a name when the default one would be too long (the document's words)."""
    body = case.body
    if not _creates_index(context) or not isinstance(body, dict):
        return True
    keys = body.get("keys")
    if not isinstance(keys, list):
        return True
    fields = [key.get("field") for key in keys if isinstance(key, dict)]
    if keys == [{"field": "_id", "direction": 1}]:
        return False  # the implicit _id_ index every collection already has
    directions = [key.get("direction") if isinstance(key, dict) else None for key in keys]
    if body.get("name") is None and all(isinstance(d, (int, float)) for d in directions):
        default_name = "_".join(f"{key.get('field')}_{int(key['direction'])}" for key in keys)
        if len(default_name) > 128:
            return False  # the default name would be too long: a name is then required
    return len(fields) == len(set(map(repr, fields)))


@schemathesis.hook
def map_case(context, case):
    """Faults injected by the run hit a path no other operation uses: the admin endpoints are
    tested, and the rest of the run still sees the service's own answers."""
    operation = context.operation
    body = case.body
    if (
        operation is not None
        and operation.path == "/v1/_admin/faults"
        and isinstance(body, dict)
        and isinstance(body.get("path_prefix"), str)
        and body["path_prefix"].startswith("/")
    ):
        case.body = {**body, "path_prefix": "/schemathesis-unused" + body["path_prefix"]}
    return case


@schemathesis.hook
def after_call(context, case, response):
    """A DELETE the service accepts (202) finishes later: the object stays readable, DELETING,
    until the provision delay (0s in this run) has passed. Like the provider, wait until it is
    gone before going on, so what follows sees the outcome of the delete (and the use-after-free
    check judges the finished delete, not one still under way)."""
    if case.operation.method.upper() != "DELETE" or response.status_code != 202:
        return
    request = response.request
    headers = {"Authorization": request.headers.get("Authorization", "")}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if requests.get(request.url, headers=headers, timeout=5).status_code == 404:
            return
        time.sleep(0.01)
