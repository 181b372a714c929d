from tests.conftest import make_client


async def test_admin_creates_lists_and_revokes_keys_over_http(app_instance, client_for, db):
    admin = client_for("admin")
    created = await admin.post("/v1/keys", json={"name": "crm-sync", "scope": "write"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"].startswith(f"dlk_{body['prefix']}_")
    assert created.headers["Location"] == f"/v1/keys/{body['id']}"
    assert set(body) == {"id", "name", "prefix", "scope", "created_at", "revoked_at", "person", "expires_at", "key"}

    async with make_client(app_instance, body["key"]) as new_client:
        assert (await new_client.get("/v1/people")).status_code == 200

        listed = (await admin.get("/v1/keys")).json()
        mine = next(k for k in listed if k["id"] == body["id"])
        assert "key" not in mine and "secret_hash" not in mine
        assert all("dlk_" not in str(value) for k in listed for value in k.values())

        revoked = await admin.post(f"/v1/keys/{body['id']}/revoke")
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
        refused = await new_client.get("/v1/people")
        assert refused.status_code == 401
        assert refused.json()["detail"] == "The API key has been revoked."


async def test_key_management_is_refused_below_admin_and_validates_input(client_for, db):
    assert (await client_for("write").post("/v1/keys", json={"name": "x", "scope": "read"})).status_code == 403
    admin = client_for("admin")
    bad_scope = await admin.post("/v1/keys", json={"name": "x", "scope": "root"})
    assert bad_scope.status_code == 422
    assert bad_scope.json()["errors"][0]["loc"] == ["body", "scope"]
    unknown = await admin.post("/v1/keys/01963b9e-2b5c-7bd0-8a6b-3c2d1e0f9a8b/revoke")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "api_key_not_found"
