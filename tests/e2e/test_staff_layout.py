"""Staff screens on a portrait tablet (768×1024): the Today form's Save in reach without
scrolling and the result of a save beside it, with and without JavaScript; the coordinator's
bar in one row, "Mina hänvisningar" without cut-off columns, and chips that say by their
marker whether several may be chosen."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import assert_accessible, settle, sign_in
from tests.e2e.steps import make_referral, site_id

HEIGHT = 1024


def in_view(locator: Locator) -> bool:
    """Wholly inside the viewport, give or take the half pixel an anchor's scroll lands off
    when the content above it has fractional heights (a day with sessions on Today)."""
    box = locator.bounding_box()
    return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= HEIGHT + 1


def fill_group(page: Page) -> None:
    form = page.locator("#record-form")
    form.locator("input#women").fill("2")
    form.locator("input#children_1_3").fill("1")


# Every focusable element of the form from the first stepper to Save, by Tab: none may end up
# behind the sticky action bar (WCAG 2.4.11, focus not obscured).
HIDDEN_BY_BAR_JS = """() => {
  const el = document.activeElement, bar = document.querySelector('#record-actions');
  if (el.id === 'save-visit') return 'save';
  const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
  return r.bottom > b.top + 1 ? `${el.tagName.toLowerCase()}#${el.id || el.name}: ${r.bottom} > ${b.top}` : '';
}"""


def test_save_is_in_reach_on_a_portrait_tablet_and_its_result_lands_beside_it(new_page, logins):
    page = new_page("tablet", "sv")
    sign_in(page, logins["staff"])
    save = page.locator("#record-form button.save-visit")
    expect(save).to_be_visible()
    assert in_view(save), f"Save is below the fold: {save.bounding_box()}"

    first = page.locator("#record-form button.stepper-button").first
    first.focus()
    covered = []
    for _ in range(80):
        page.keyboard.press("Tab")
        hidden = page.evaluate(HIDDEN_BY_BAR_JS)
        if hidden == "save":
            break
        if hidden:
            covered.append(hidden)
    else:
        raise AssertionError("Tab never reached Save")
    assert not covered, "focused fields hidden behind the action bar:\n" + "\n".join(covered)

    groups = int(page.locator("#today-totals dl > div").first.locator("dd").inner_text())
    fill_group(page)
    save.tap()
    settle(page)
    status = page.locator("#today-status")
    expect(status).to_contain_text("Besöket är sparat.")
    expect(status.locator(".status-totals strong").first).to_have_text(str(groups + 1))
    assert in_view(status) and in_view(save)
    expect(page.locator("#record-form input#women")).to_have_value("0")  # ready for the next

    # A form to correct says so beside Save too, the status node kept (so it is announced).
    page.locator("#record-form input#women").fill("99")
    status.evaluate("el => { window.statusNode = el; }")
    save.tap()
    expect(status).to_contain_text("Rätta det som är markerat")
    assert page.evaluate("() => window.statusNode === document.getElementById('today-status')")
    assert in_view(status)
    assert_accessible(page)


def test_without_javascript_the_confirmation_is_in_view_after_the_save(new_page, logins):
    page = new_page("tablet", "sv", javascript_enabled=False)
    sign_in(page, logins["staff"])
    save = page.locator("#record-form button.save-visit")
    assert in_view(save)
    fill_group(page)
    save.click()
    expect(page).to_have_url(re.compile(r"/sites/\d+/today#today-totals$"))
    confirmation = page.locator("#today-status .flash")
    expect(confirmation).to_have_text("Besöket är sparat.")
    assert in_view(confirmation), f"confirmation off screen: {confirmation.bounding_box()}"
    assert in_view(page.locator("#today-totals"))


ROW_JS = """() => {
  const shown = [...document.querySelectorAll('.mainnav > ul > li')].filter(e => e.checkVisibility());
  const items = [document.querySelector('.brand'), ...shown, document.querySelector('.topbar-end')];
  const boxes = items.map(e => e.getBoundingClientRect());
  const link = document.querySelector('.mainnav a').getBoundingClientRect();
  return {
    nav: document.querySelector('.mainnav').getBoundingClientRect().height,
    link: link.height,
    tops: boxes.map(b => Math.round(b.top)), bottoms: boxes.map(b => Math.round(b.bottom)),
    rights: boxes.map(b => Math.round(b.right)),
  };
}"""

MARKERS_JS = """selector => [...document.querySelectorAll(selector)].map(el => {
  const s = getComputedStyle(el, '::before');
  return {radius: s.borderTopLeftRadius, width: parseFloat(s.width)};
})"""


def is_round(marker: dict) -> bool:
    radius = marker["radius"]
    if radius.endswith("%"):
        return float(radius[:-1]) >= 25
    return float(radius.removesuffix("px")) >= marker["width"] / 4


def test_coordinator_bar_list_and_chips_fit_a_portrait_tablet(new_page, logins, live_server):
    make_referral(
        live_server,
        "sfi",
        "employment",  # long words: "Arbetsförmedlingen" pushed the last column off screen
        "guidance",
        first_name="Layla",
        phone="0701112233",
        by=logins["coordinator"].email,
    )
    page = new_page("tablet", "sv")
    sign_in(page, logins["coordinator"])
    page.goto("/referrals/mine")

    row = page.evaluate(ROW_JS)
    assert row["nav"] <= row["link"] + 1, f"the nav wraps: {row}"
    assert max(row["tops"]) - min(row["tops"]) <= 4, f"the bar is more than one row: {row}"
    assert max(row["rights"]) <= 768
    more = page.locator(".nav-more summary")
    more.click()  # the role's pages past the third, the visitors' pages and kiosk mode
    expect(page.locator(".nav-more").get_by_role("link", name="Statistik")).to_be_visible()
    kiosk = page.locator(".nav-more a[href='/kiosk/start']")
    expect(kiosk).to_be_visible()
    assert kiosk.bounding_box()["x"] >= 0 and in_view(kiosk)
    more.click()

    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.querySelector('.table-wrap').scrollWidth,"
        " document.querySelector('.table-wrap').clientWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[3], f"overflow: {widths}"
    closed = page.locator("table tbody tr").first.locator("td").last
    expect(closed).to_be_visible()
    box, wrap = closed.bounding_box(), page.locator(".table-wrap").bounding_box()
    assert box["x"] >= wrap["x"] and box["x"] + box["width"] <= wrap["x"] + wrap["width"], (
        f"last column cut off: {box} outside {wrap}"
    )
    assert_accessible(page)

    page.goto(f"/sites/{site_id(live_server)}/referrals/new")
    services = page.evaluate(MARKERS_JS, ".service-chips .chip")
    assert services and not any(map(is_round, services)), f"round checkboxes: {services}"
    page.goto(f"/sites/{site_id(live_server)}/today")
    languages = page.evaluate(MARKERS_JS, "label.chip:has(input[type=checkbox]) .chip-text")
    radios = page.evaluate(MARKERS_JS, "label.chip:has(input[type=radio]) .chip-text")
    assert languages and not any(map(is_round, languages)), f"round checkboxes: {languages}"
    assert radios and all(map(is_round, radios)), f"radios not round: {radios}"
