"""Vietnamese first, English on request: pages and API error messages."""

from tests.conftest import bearer, token_for


def test_pages_are_vietnamese_by_default_and_english_on_request(client):
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    assert "Sign in" in client.get("/login?lang=en").get_data(as_text=True)


def test_api_error_message_follows_the_language(client):
    token = token_for(client, "clerk1")
    client.post("/api/v1/counters/1/open", headers=bearer(token))
    vi = client.post("/api/v1/counters/1/call-next", headers=bearer(token)).get_json()
    en = client.post("/api/v1/counters/1/call-next?lang=en", headers=bearer(token)).get_json()
    assert vi["error"] == {"code": "queue_empty", "message": "Không còn ai đang chờ."}
    assert en["error"] == {"code": "queue_empty", "message": "Nobody is waiting."}
