"""The stand-in answers in the shapes Kazoo documents (tests/data/kazoo/examples)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.kazoo_standin import API_KEY, CHILD_A, KazooStandIn

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "kazoo" / "examples"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def shape(value: Any) -> Any:
    """Keys and types, with Kazoo's `{PLACEHOLDER}` keys and numbers' keys folded."""
    if isinstance(value, dict):
        folded: dict[str, Any] = {}
        for key, item in value.items():
            name = "<number>" if key.startswith(("+", "{PHONE")) else key
            folded[name] = shape(item)
        return folded
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if not isinstance(value, int | float) else "number"


async def call(
    standin: KazooStandIn, method: str, path: str, body: Any = None
) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        async with session.put(
            standin.url + "/v2/api_auth", json={"data": {"api_key": API_KEY}}
        ) as auth:
            token = (await auth.json())["auth_token"]
        async with session.request(
            method, standin.url + path, json=body, headers={"X-Auth-Token": token}
        ) as resp:
            return resp.status, await resp.json()


def without(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in keys}


async def test_the_number_listing_has_the_documented_shape(standin: KazooStandIn) -> None:
    standin.change_number("+14155550100", state="in_service", assigned_to=CHILD_A)
    standin.change_number("+14155550101", state="in_service", assigned_to=CHILD_A)

    status, body = await call(standin, "GET", f"/v2/accounts/{CHILD_A}/phone_numbers?page_size=1")

    documented = example("list-account-s-phone-numbers")
    assert status == 200
    assert set(body) == set(documented)
    ours = body["data"]["numbers"]["+14155550100"]
    assert set(documented["data"]["numbers"]["+14152338421"]) <= set(ours)


async def test_collection_activate_answers_as_kazoo_43_does_not_as_documented(
    standin: KazooStandIn,
) -> None:
    """200 with `data.success` and `data.error`, even when every number failed
    (cb_phone_numbers_v2.erl:884-895, knm_numbers.erl:571-578); the documented 400
    with numbers at the root of `data` is 4.0's."""
    numbers = [n for n, _ in standin.model.search("415", 2, 0)]
    path = f"/v2/accounts/{CHILD_A}/phone_numbers/collection/activate"

    status, body = await call(
        standin, "PUT", path, {"data": {"numbers": numbers}, "accept_charges": True}
    )
    assert status == 200
    documented = example("buy-a-list-of-numbers--success-response")
    assert set(body["data"]) == set(documented["data"]) == {"success"}

    standin.fail_number("+14155550999", message="fault by carrier")
    status, body = await call(
        standin,
        "PUT",
        path,
        {"data": {"numbers": ["+14155550999", "+14155550998"]}, "accept_charges": True},
    )
    assert (status, body["status"]) == (200, "success")
    assert body["data"] == {
        "error": {
            "+14155550999": {
                "code": 500,
                "error": "unspecified_fault",
                "cause": "+14155550999",
                "message": "fault by carrier",
            },
            # Never searched: discovery fails with the atom `not_found`.
            "+14155550998": "not_found",
        }
    }


async def test_search_results_exist_only_in_the_search_cache(standin: KazooStandIn) -> None:
    """Reserve and the per-number calls read the numbers database only (B1)."""
    numbers = [n for n, _ in standin.model.search("415", 1, 0)]
    base = f"/v2/accounts/{CHILD_A}/phone_numbers/%2B{numbers[0][1:]}"

    reserved, _ = await call(standin, "PUT", base + "/reserve", {"data": {}})
    read, _ = await call(standin, "GET", base)
    identify, _ = await call(standin, "GET", base + "/identify")

    assert (reserved, read, identify) == (404, 404, 404)


async def test_the_402_and_e911_answers_have_the_documented_shapes(
    standin: KazooStandIn,
) -> None:
    numbers = [n for n, _ in standin.model.search("415", 1, 0)]
    path = f"/v2/accounts/{CHILD_A}/phone_numbers/collection/activate"
    _, invoices = await call(standin, "PUT", path, {"data": {"numbers": numbers}})
    standin.model.quote_shape = "legacy"
    _, legacy = await call(standin, "PUT", path, {"data": {"numbers": numbers}})

    documented = example("402-accept-charges--invoices")["data"][0]
    [invoice] = invoices["data"]
    # 4.3 adds `bookkeeper`, item `name`/`prorate`, and lists every item of the plan
    # with `changes` only on the changed ones (kz_services_invoice.erl:172-186).
    assert set(documented) < set(invoice) and "bookkeeper" in invoice
    assert set(documented["items"][0]) <= set(invoice["items"][0])
    assert [i["item"] for i in invoice["items"] if "changes" in i] == ["did_us"]
    assert [i["item"] for i in invoice["items"] if "changes" not in i] == ["tollfree_us", "user"]
    assert set(legacy["data"]) >= {"activation_charges", "phone_numbers"}
    item = example("402-accept-charges--legacy")["data"]["{CATEGORY}"]["{ITEM}"]
    assert set(legacy["data"]["phone_numbers"]["did_us"]) == set(item)

    standin.change_number("+14155550100", state="in_service", assigned_to=CHILD_A)
    e911 = {
        "street_address": "116 Natoma",
        "extended_address": "Apt 116",
        "locality": "SF",
        "region": "CA",
        "postal_code": "94105",
    }
    status, body = await call(
        standin,
        "PATCH",
        f"/v2/accounts/{CHILD_A}/phone_numbers/%2B14155550100",
        {"data": {"e911": e911}},
    )
    # 4.3 sends Dash's multiple choice as the generic 500 (knm_errors.erl:166-168), the
    # documented 400 `multiple_choice` body being 3.x's; the candidates are in `cause`.
    assert status == 500 and body["message"] == "unspecified_fault"
    assert set(body["data"]) == {"code", "error", "message", "cause"}
    assert body["data"]["message"] == "multiple_choice"
    documented = example("e911--multiple-choice")["data"]["multiple_choice"]["e911"]
    assert set(json.loads(body["data"]["cause"])) == set(documented)
