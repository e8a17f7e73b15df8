"""A citizen rates a dossier once from its public lookup page (code and the QR's key)."""

from __future__ import annotations

from onestop.dossiers import lookup
from tests.api.helpers import assert_error, in_db, ok
from tests.conftest import MONDAY_9, SECRET, demo_app
from tests.dossiers.conftest import receive
from tests.ratings.conftest import ratings


def _code(app):
    with in_db(app) as session:
        return receive(session, MONDAY_9).code


def _rate(client, code, k, level="satisfied", **extra):
    return client.post("/api/v1/lookup/rating", json={"code": code, "k": k, "level": level, **extra})


def test_rated_once_with_the_right_key(app, client):
    code = _code(app)
    k = lookup.lookup_token(SECRET, code)
    saved = ok(_rate(client, code, k, "very_satisfied"), 201)
    assert (saved["source"], saved["level"], saved["ticket_id"]) == ("lookup", "very_satisfied", None)
    assert saved["dossier_id"] is not None
    assert_error(_rate(client, code, k, "satisfied"), 409, "already_rated")
    [row] = ratings(app)
    assert row.dossier_id == saved["dossier_id"] and row.score == 3
    assert row.clerk_id == 3  # who received the dossier (tests.dossiers.conftest.receive)


def test_wrong_key_and_unknown_code_get_the_same_404(app, client):
    code = _code(app)
    k = lookup.lookup_token(SECRET, code)
    wrong = k[:-1] + ("a" if k[-1] != "a" else "b")
    first = assert_error(_rate(client, code, wrong), 404, "dossier_not_found")
    other = "H56.12.3-261123-9999"
    second = assert_error(_rate(client, other, lookup.lookup_token("not-our-secret", other)), 404,
                          "dossier_not_found")
    assert first == second
    assert ratings(app) == []


def test_lowest_level_needs_a_reason_on_the_page_too(app, client):
    code = _code(app)
    k = lookup.lookup_token(SECRET, code)
    assert_error(_rate(client, code, k, "dissatisfied"), 422, "reason_required")
    ok(_rate(client, code, k, "dissatisfied", reasons=["Hướng dẫn chưa rõ ràng"]), 201)


def test_the_lookup_page_offers_the_form_once(app, client):
    code = _code(app)
    url = f"/lookup/{code}?k={lookup.lookup_token(SECRET, code)}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="rating-form"' in page and 'data-level="very_satisfied"' in page
    assert "Thời gian chờ lâu" in page  # the unit's reasons
    assert "lookup-rating.js" in page and "onclick" not in page
    csrf = page.split('<meta name="csrf-token" content="')[1].split('"')[0]
    res = client.post("/api/v1/lookup/rating", headers={"X-CSRFToken": csrf},
                      json={"code": code, "k": url.split("k=")[1], "level": "satisfied"})
    ok(res, 201)
    again = client.get(url).get_data(as_text=True)
    assert 'id="rating-form"' not in again and "đã được đánh giá" in again
    # the phone-digits path shows the status but no rating form (no key)
    typed = client.get("/lookup/", query_string={"code": code, "phone4": "5678"})
    assert typed.status_code == 200 and "rating-form" not in typed.get_data(as_text=True)


def test_guessing_keys_is_rate_limited_like_the_lookup(tmp_path):
    with demo_app(tmp_path, RATELIMIT_ENABLED=True, LOOKUP_RATE_LIMIT="5 per minute") as limited:
        client = limited.test_client()
        code = _code(limited)
        env = {"REMOTE_ADDR": "10.0.3.1"}
        for guess in range(5):
            res = client.post("/api/v1/lookup/rating", environ_base=env,
                              json={"code": code, "k": f"guess{guess:07d}", "level": "satisfied"})
            assert_error(res, 404, "dossier_not_found")
        right = {"code": code, "k": lookup.lookup_token(SECRET, code), "level": "satisfied"}
        assert_error(client.post("/api/v1/lookup/rating", json=right, environ_base=env), 429,
                     "rate_limited")
        ok(client.post("/api/v1/lookup/rating", json=right, environ_base={"REMOTE_ADDR": "10.0.3.2"}),
           201)
