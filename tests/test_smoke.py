from tests.conftest import bearer, token_for


def test_issue_and_call_over_api(client):
    token = token_for(client, "clerk1")
    issued = client.post("/api/v1/tickets", json={"service_id": 1}, headers=bearer(token))
    assert issued.status_code == 201
    assert issued.get_json()["label"] == "A001"
    assert client.post("/api/v1/counters/1/open", headers=bearer(token)).status_code == 200
    called = client.post("/api/v1/counters/1/call-next", headers=bearer(token))
    assert called.get_json()["state"] == "called"
