"""Local details a visitor needs (issue 18, items 3 and 4): where each open preschool is, when
it is open, its phone and the services held there; where, when and how to apply for a
service in this municipality; the withdrawal page that says whom to call; and the admin's
screens and rules for all of it."""

import re

import pytest
from sqlalchemy import select

from app.choices import Role
from app.extensions import db
from app.info.hours import HoursError, by_day, format_day, is_valid, parse_day, week_rows
from app.info.places import map_url
from app.models import AuditEvent, Site

WEEK = [[1, "09:00", "12:00"], [1, "13:00", "16:00"], [3, "09:00", "12:00"], [5, "10:00", "15:00"]]


@pytest.fixture
def org(make):
    return make.org(name="Demo kommun")


@pytest.fixture
def north(make, org):
    return make.site(
        org=org,
        name="Öppna förskolan Norr",
        address="Norrgatan 12, 123 45 Demostad",
        phone="08-465 004 10",
        weekly_hours=WEEK,
    )


# ---------------------------------------------------------------- the withdrawal page (item 3)


def test_withdraw_page_switches_language_to_the_same_page(client, north):
    """The language picker on /<lang>/withdraw leads to /<other>/withdraw: it used to post to
    the staff language switcher, and the URL's language won, so the page came back the same."""
    page = client.get("/sv/withdraw").get_data(as_text=True)
    assert 'href="/ar/withdraw"' in page and 'href="/ti/withdraw"' in page
    arabic = client.get("/ar/withdraw").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in arabic


def test_withdraw_page_says_where_to_go_and_which_number_to_call(client, north, make, org):
    make.site(org=org, name="Stängd förskola", phone="08-465 004 99", is_active=False)
    page = client.get("/en/withdraw").get_data(as_text=True)
    assert "Öppna förskolan Norr" in page and "Norrgatan 12, 123 45 Demostad" in page
    assert 'href="tel:0846500410"' in page and "08-465 004 10" in page
    assert f'href="/en/site/{north.id}"' in page
    assert "Demo kommun" in page
    assert "08-465 004 99" not in page  # an inactive site is not a place to go to


def test_withdraw_page_in_an_unknown_language_goes_to_the_closest(client, north):
    response = client.get("/ar-SE/withdraw")
    assert response.status_code == 302 and response.headers["Location"].endswith("/ar/withdraw")
