"""004 through HTTP: store/show/update/destroy/test, include, filter[...], sort, page/per_page, secret variables."""

from __future__ import annotations

import httpx
import pytest

from integrations import models
from integrations.client import BadRequestError, NotFoundError

from .conftest import Api, run


def store_body(name: str, **extra: object) -> models.PatchworksConnectorStoreRequest:
    return models.PatchworksConnectorStoreRequest.model_validate({
        "name": name, "authentication_implementation_id": "3", "timezone": "Europe/London", "date_format": "Y-m-d",
        "rate_limit_unit": "minute", "rate_limit_duration": 60, **extra})


def test_patchworks_connectors(api: Api) -> None:
    async def scenario() -> None:
        async with api.client() as client:
            p = client.patchworks_connectors
            created = (await p.patchworks_connectors_store(body=store_body("Shopify", variables=[
                {"key": "token", "value": "tok-secret", "secret": True}, {"key": "region", "value": "eu"}],
                platform_app_key="pak-1", session_id="s-1"))).data
            raw = await client.request("GET", f"/api/v1/connectors/{created.id}", params=[("include", "variables")],
                                       retryable=True)
            assert raw.status_code == 200 and "tok-secret" not in raw.text and "pak-1" not in raw.text and '"eu"' in raw.text
            shown = (await p.patchworks_connectors_show(connector=created.id, include=["variables", "variables_count"])).data
            assert shown.variables_count == 2 and [v.key for v in shown.variables] == ["token", "region"]
            counted = (await p.patchworks_connectors_show(connector=created.id, include=[
                "authenticationImplementation_count", "authenticationImplementationExists", "certificate_count",
                "certificateExists", "authenticationImplementation.system"])).data
            assert (counted.authentication_implementation_count, counted.authentication_implementation_exists,
                    counted.certificate_count, counted.certificate_exists) == (1, True, 0, False)
            assert counted.authentication_implementation == {"id": "3"}  # a reference: the record lives elsewhere
            async with httpx.AsyncClient(base_url=api.base_url, transport=api.transport(),
                                         headers={"Authorization": api.keys["admin"]}) as bare:  # no "Bearer"
                assert (await bare.get(f"/api/v1/connectors/{created.id}")).status_code == 200
            for name in ("Zendesk", "Amazon", "Magento"):
                await p.patchworks_connectors_store(body=store_body(name))
            page = await p.patchworks_connectors_index(sort="-name", per_page=2, page=1)
            assert [c.name for c in page.data] == ["Zendesk", "Shopify"]
            assert (page.meta.total, page.meta.last_page, page.meta.from_, page.meta.to) == (4, 2, 1, 2)
            assert page.links.next and page.links.prev is None
            assert [c.name async for c in p.iter_patchworks_connectors_index(sort="name", per_page=3)] == [
                "Amazon", "Magento", "Shopify", "Zendesk"]
            filtered = await p.patchworks_connectors_index(filter_for_session="s-1")
            assert [c.name for c in filtered.data] == ["Shopify"]
            await p.patchworks_connectors_store(body=store_body("Other system", authentication_implementation_id="9"))
            for attribute in ("filter_system", "filter_system_template_id", "filter_for_system_template",
                              "filter_canonical_key"):  # each as the spec defines it: the authentication implementation
                matched = await p.patchworks_connectors_index(**{attribute: "9"})
                assert [c.name for c in matched.data] == ["Other system"], attribute
            both = await p.patchworks_connectors_index(filter_system="9", filter_platform_session="s-1")
            assert both.data == []  # filters combine
            with pytest.raises(BadRequestError):  # unknown include
                await p.patchworks_connectors_index(include=["nope"])  # type: ignore[list-item]
            updated = (await p.patchworks_connectors_update(connector=created.id, body=models.PatchworksConnectorUpdate(
                name="Shopify live", timezone="Not/AZone"))).data
            assert updated.name == "Shopify live"
            with pytest.raises(BadRequestError) as failed:
                await p.patchworks_connectors_test(connector=created.id)
            assert failed.value.problem["errors"][0]["pointer"] == "/timezone"
            await p.patchworks_connectors_update(connector=created.id, body=models.PatchworksConnectorUpdate(timezone="UTC"))
            await p.patchworks_connectors_test(connector=created.id)
            raw = await client.request("GET", f"/api/v1/connectors/{created.id}", params=[("include", "variables")],
                                       retryable=True)
            assert raw.status_code == 200 and "tok-secret" not in raw.text
            message = await p.patchworks_connectors_destroy(connector=created.id)
            assert message.message == "Connector deleted."
            with pytest.raises(NotFoundError):
                await p.patchworks_connectors_show(connector=created.id)
        async with api.raw() as raw_client:
            response = await raw_client.get("/api/v1/connectors", params={"per_page": 101})
            assert response.status_code == 400 and response.json()["errors"][0]["pointer"] == "#query/per_page"
            response = await raw_client.post("/api/v1/connectors", json={"name": "x", "rate_limit_unit": "week"})
            pointers = {e["pointer"] for e in response.json()["errors"]}
            assert response.status_code == 400 and {"/rate_limit_unit", "/timezone"} <= pointers
        async with api.client("other") as other:  # another tenant sees none of them
            assert (await other.patchworks_connectors.patchworks_connectors_index()).meta.total == 0

    run(scenario())


def other_tenant_cannot_read(app: object, other_key: str, connector: str) -> None:
    """Another tenant's key gets 404 for this tenant's connector (shared with the conformance catches)."""
    import httpx

    async def fetch() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as raw:
            response = await raw.get(f"/api/v1/connectors/{connector}", headers={"X-API-Key": other_key})
            return response.status_code

    assert run(fetch()) == 404
