"""The bench's floor views go through everything a real page does before its own work, or
the floor would overstate what work on the pages can reach."""

from bench.floor import SIGNED_IN_PATH, VISITOR_PATH, add_floor_views


def test_the_signed_in_floor_needs_a_signed_in_user_and_gets_the_headers(app, make, login):
    add_floor_views(app)
    client = app.test_client()
    anonymous = client.get(SIGNED_IN_PATH)
    assert anonymous.status_code == 302 and "/login" in anonymous.location

    login(make.user(), c=client)
    page = client.get(SIGNED_IN_PATH)
    assert page.status_code == 200
    assert len(page.data) == 10_000
    assert "Content-Security-Policy" in page.headers  # the app's after_request hooks ran


def test_the_visitor_floor_is_public_and_gets_the_headers(app):
    add_floor_views(app)
    page = app.test_client().get(VISITOR_PATH)
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers
