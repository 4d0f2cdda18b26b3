"""Drives dbaas-local's OVH dialect with the official OVHcloud Python wrapper (PyPI `ovh`).

Run by tests/ovh_python.rs with PYTHONPATH=.tools/python (installed by `make tools`). It
registers the dialect's URL in the wrapper's endpoint table, then does what OVH's guide does:
read the capabilities and availability, create a MongoDB service, wait for READY, allow an IP
block, create a user, reset its password. It prints one JSON line for the Rust side to check
against the native API, and exits non-zero (with the reason on stderr) on any surprise.
"""

import json
import os
import sys
import time
import urllib.parse

import ovh
import ovh.client
import ovh.exceptions

ENDPOINT_NAME = "dbaas-local"
POLLS = 2000


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def wait_for(client, path, wanted):
    for _ in range(POLLS):
        body = client.get(path)
        if body["status"] == wanted:
            return body
        time.sleep(0.02)
    fail(f"{path} never became {wanted}")


def main():
    ovh.client.ENDPOINTS[ENDPOINT_NAME] = os.environ["DBAAS_OVH_ENDPOINT"]
    keys = {
        "application_key": os.environ["DBAAS_OVH_APPLICATION_KEY"],
        "application_secret": os.environ["DBAAS_OVH_APPLICATION_SECRET"],
        "consumer_key": os.environ["DBAAS_OVH_CONSUMER_KEY"],
    }
    client = ovh.Client(endpoint=ENDPOINT_NAME, **keys)
    base = f"/cloud/project/{os.environ['DBAAS_OVH_PROJECT']}/database"

    capabilities = client.get(f"{base}/capabilities")
    check(any(e["name"] == "mongodb" for e in capabilities["engines"]), "no mongodb engine")
    offers = [
        a for a in client.get(f"{base}/availability")
        if a["engine"] == "mongodb" and a["plan"] == "business"
    ]
    check(offers, "no business offer for mongodb")
    offer = offers[0]

    service = client.post(
        f"{base}/mongodb",
        description="python-wrapper",
        plan=offer["plan"],
        version=offer["version"],
        nodesPattern={
            "flavor": offer["flavor"],
            "number": offer["minNodeNumber"],
            "region": offer["region"],
        },
    )
    check(service["status"] == "CREATING", f"new service: {service}")
    cluster = f"{base}/mongodb/{service['id']}"
    check(service["id"] in client.get(f"{base}/mongodb"), "service not listed")
    wait_for(client, cluster, "READY")

    allowed = client.post(f"{cluster}/ipRestriction", ip="203.0.113.0/24", description="python")
    check(allowed["ip"] == "203.0.113.0/24", f"ip restriction: {allowed}")
    wait_for(client, cluster, "READY")
    block = urllib.parse.quote("203.0.113.0/24", safe="")
    check(client.get(f"{cluster}/ipRestriction/{block}")["status"] == "READY", "restriction")

    user = client.post(f"{cluster}/user", name="pyuser", roles=["readWrite@app"])
    check(user["username"] == "pyuser@admin", f"user: {user}")
    check(user.get("password"), "no password on create")
    wait_for(client, f"{cluster}/user/{user['id']}", "READY")
    reset = client.post(f"{cluster}/user/{user['id']}/credentials/reset")
    check(reset.get("password") and reset["password"] != user["password"], "reset password")

    try:
        client.get(f"{base}/mongodb/00000000-0000-4000-8000-000000000000")
        fail("an unknown cluster was found")
    except ovh.exceptions.ResourceNotFoundError:
        pass
    wrong = ovh.Client(endpoint=ENDPOINT_NAME, **{**keys, "application_secret": "wrong"})
    try:
        wrong.get(f"{base}/mongodb")
        fail("a wrong application secret was accepted")
    except ovh.exceptions.BadParametersError as error:
        check("Invalid signature" in str(error), f"wrong secret: {error}")

    print(json.dumps({
        "cluster": service["id"],
        "description": "python-wrapper",
        "user": "pyuser",
        "password": reset["password"],
        "ip": allowed["ip"],
    }))


if __name__ == "__main__":
    main()
