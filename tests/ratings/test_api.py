"""The rating rules through the API: who may rate, once, when, with which answer."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from onestop.webhooks.engine import create_webhook
from onestop.webhooks.models import WebhookDelivery
from tests.api.helpers import add_device, assert_error, in_db, ok, unit_of, user_id
from tests.conftest import MONDAY_9, bearer, token_for
from tests.counter.conftest import sign_in
from tests.ratings.conftest import rate, ratings, served, set_unit, tablet

REASON = "Thời gian chờ lâu"


# --- the scale ------------------------------------------------------------------------


def scale(client: Any, query: str = "") -> list[dict[str, Any]]:
    res = client.get(f"/api/v1/ratings/scale{query}")
    assert res.status_code == 200, res.get_data(as_text=True)
    return list(res.get_json())


def test_default_scale_is_the_three_levels_of_tt_01_2018(client):
    levels = scale(client)
    assert levels == [
        {"code": "very_satisfied", "label": "Rất hài lòng", "needs_reason": False},
        {"code": "satisfied", "label": "Hài lòng", "needs_reason": False},
        {"code": "dissatisfied", "label": "Không hài lòng", "needs_reason": True},
    ]
    english = scale(client, "?lang=en")
    assert [lv["label"] for lv in english] == ["Very satisfied", "Satisfied", "Dissatisfied"]


def test_five_level_scale_is_a_unit_option(app, client, tablet3):
    set_unit(app, rating_scale="5")
    levels = scale(client)
    assert [lv["label"] for lv in levels] == ["Rất hài lòng", "Hài lòng", "Bình thường",
                                              "Không hài lòng", "Rất không hài lòng"]
    assert [lv["needs_reason"] for lv in levels] == [False, False, False, False, True]
    first, second = served(client, 3), served(client, 3)
    assert ok(rate(client, tablet3, first["id"], "neutral"), 201)["score"] == 3
    assert_error(rate(client, tablet3, second["id"], "very_dissatisfied"), 422, "reason_required")
    saved = ok(rate(client, tablet3, second["id"], "very_dissatisfied", reasons=[REASON]), 201)
    assert (saved["scale"], saved["score"]) == ("5", 1)
    assert [r.scale for r in ratings(app)] == ["5", "5"]


# --- the tablet rates once ---------------------------------------------------------------


def test_the_counters_tablet_rates_a_finished_ticket_once(app, client, tablet3):
    ticket = served(client, 3)
    saved = ok(rate(client, tablet3, ticket["id"], "very_satisfied"), 201)
    assert saved["ticket_id"] == ticket["id"] and saved["source"] == "tablet"
    assert (saved["level"], saved["score"], saved["scale"]) == ("very_satisfied", 3, "3")
    assert_error(rate(client, tablet3, ticket["id"], "satisfied"), 409, "already_rated")
    assert_error(rate(client, tablet3, ticket["id"], "not_rated"), 409, "already_rated")
    [row] = ratings(app)
    assert row.level == "very_satisfied" and row.dossier_id is None
    assert row.clerk_id == user_id(app, "clerk3")  # who served (called) the citizen
    assert (row.counter_id, row.service_id) == (3, 2)


def test_timeout_records_not_rated(app, client, tablet3):
    ticket = served(client, 3)
    saved = ok(rate(client, tablet3, ticket["id"], "not_rated", reasons=[REASON], comment="x"), 201)
    assert (saved["level"], saved["score"], saved["source"]) == ("not_rated", 0, "timeout")
    [row] = ratings(app)
    assert row.reasons == [] and row.comment == ""
    assert_error(rate(client, tablet3, ticket["id"], "very_satisfied"), 409, "already_rated")


def test_lowest_level_needs_a_reason_or_a_comment(app, client, tablet3):
    first, second = served(client, 3), served(client, 3)
    error = assert_error(rate(client, tablet3, first["id"], "dissatisfied"), 422, "reason_required")
    assert "lý do chưa hài lòng" in error["message"]  # not the apology's "lý do chậm trễ"
    assert_error(rate(client, tablet3, first["id"], "dissatisfied", comment="  "), 422,
                 "reason_required")
    assert_error(rate(client, tablet3, first["id"], "dissatisfied", reasons=["Tự nghĩ ra"]), 422,
                 "invalid_reason")
    assert ratings(app) == []
    ok(rate(client, tablet3, first["id"], "dissatisfied", reasons=[REASON, REASON],
            comment="Phải chờ hơn một tiếng"), 201)
    ok(rate(client, tablet3, second["id"], "dissatisfied", comment="Cán bộ không hướng dẫn"), 201)
    one, two = ratings(app)
    assert (one.reasons, one.comment) == ([REASON], "Phải chờ hơn một tiếng")
    assert (two.reasons, two.comment, two.score) == ([], "Cán bộ không hướng dẫn", 1)


def test_unknown_level_and_bad_input_change_nothing(app, client, tablet3):
    ticket = served(client, 3)
    assert_error(rate(client, tablet3, ticket["id"], "happy"), 422, "invalid_level")
    assert_error(rate(client, tablet3, ticket["id"], "neutral"), 422, "invalid_level")  # 5-level only
    assert_error(client.post("/api/v1/ratings", json={"ticket_id": "x", "level": "satisfied"},
                             headers=bearer(tablet3)), 422)
    assert_error(rate(client, tablet3, ticket["id"], "dissatisfied", comment="x" * 501), 422)
    assert_error(rate(client, tablet3, 2**40, "satisfied"), 404, "ticket_not_found")
    assert ratings(app) == []


# --- who may rate -------------------------------------------------------------------------


def test_users_cannot_rate(app, client, tablet3):
    ticket = served(client, 3)
    for username in ("clerk3", "manager", "admin"):
        assert_error(rate(client, token_for(client, username), ticket["id"], "very_satisfied"),
                     403, "forbidden")
    assert_error(client.post("/api/v1/ratings", json={"ticket_id": ticket["id"], "level": "satisfied"}),
                 401, "unauthorized")
    assert ratings(app) == []


def test_a_clerks_session_cannot_rate(app, client):
    ticket = served(client, 3)
    csrf = sign_in(client, "clerk3")
    res = client.post("/api/v1/ratings", json={"ticket_id": ticket["id"], "level": "very_satisfied"},
                      headers={"X-CSRFToken": csrf})
    assert_error(res, 403, "forbidden")
    assert ratings(app) == []


def test_only_the_tablet_of_the_serving_counter(app, client, tablet3):
    at_four = served(client, 4)
    assert_error(rate(client, tablet3, at_four["id"], "very_satisfied"), 403, "not_counter_tablet")
    for kind, extra in (("kiosk", {}), ("display", {}), ("counter-display", {"counter_number": 4})):
        token = add_device(app, kind, f"{kind} test", **extra)
        assert_error(rate(client, token, at_four["id"], "very_satisfied"), 403, "not_counter_tablet")
    ok(rate(client, tablet(app, 4), at_four["id"], "very_satisfied"), 201)


def test_an_unfinished_ticket_cannot_be_rated(app, client, tablet3):
    called = served(client, 3, finish=False)
    assert_error(rate(client, tablet3, called["id"], "very_satisfied"), 409, "ticket_not_finished")
    assert_error(rate(client, tablet3, called["id"], "not_rated"), 409, "ticket_not_finished")
    assert ratings(app) == []


def test_the_tablet_page_rates_with_its_cookie(app, client):
    ticket = served(client, 3)
    client.set_cookie("onestop_device", tablet(app, 3))
    page = client.get("/counter/tablet").get_data(as_text=True)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert csrf
    assert_error(client.post("/api/v1/ratings", json={"ticket_id": ticket["id"], "level": "satisfied"}),
                 400, "csrf_failed")
    ok(client.post("/api/v1/ratings", json={"ticket_id": ticket["id"], "level": "satisfied"},
                   headers={"X-CSRFToken": csrf.group(1)}), 201)


# --- the webhook -----------------------------------------------------------------------------


def test_rating_created_queues_a_webhook_delivery_without_personal_data(app, client, tablet3):
    with in_db(app) as session:
        create_webhook(session, unit_of(session), "https://integration.example.vn/hook",
                       ["rating.created"], now=MONDAY_9)
        create_webhook(session, unit_of(session), "https://other.example.vn/hook",
                       ["ticket.called"], now=MONDAY_9)
    ticket = served(client, 3)
    ok(rate(client, tablet3, ticket["id"], "dissatisfied", reasons=[REASON],
            comment="Gọi cho tôi: 0912345678"), 201)
    with in_db(app) as session:
        rows = list(session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.event == "rating.created")))
        payloads = [row.payload for row in rows]
    assert len(payloads) == 1
    data = payloads[0]["rating"]
    assert data["ticket"] == {"id": ticket["id"], "label": ticket["label"]}
    assert (data["level"], data["score"], data["source"], data["reasons"]) == (
        "dissatisfied", 1, "tablet", [REASON])
    assert data["counter"] == {"number": 3}
    assert "0912345678" not in str(payloads[0]) and "comment" not in data


def test_a_ticket_finished_long_ago_cannot_be_rated(app, client, tablet3):
    """The tablet asks for 30 s; the server accepts an answer for 10 minutes, not later: a
    tablet taken away, or a script holding its token, cannot rate the day's tickets."""
    import datetime as dt

    from onestop.queueing.models import Ticket

    recent, old = served(client, 3), served(client, 3)
    with in_db(app) as session:
        session.get(Ticket, old["id"]).finished_at -= dt.timedelta(minutes=11)
    assert_error(rate(client, tablet3, old["id"], "very_satisfied"), 409, "rating_closed")
    assert_error(rate(client, tablet3, old["id"], "not_rated"), 409, "rating_closed")
    ok(rate(client, tablet3, recent["id"], "satisfied"), 201)
    assert [r.ticket_id for r in ratings(app)] == [recent["id"]]
