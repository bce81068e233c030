"""Projects (issue 20): admins create, edit and delete a project with its sites, services,
activities and targets; bad input is refused beside its field and stores nothing; another
organisation's project, site, service or activity is not found."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from app.choices import Funder, Gender, Indicator, Role
from app.extensions import db
from app.models import AuditEvent, Project, ProjectTarget


@pytest.fixture
def org(make):
    return make.org()


@pytest.fixture
def sites(make, org):
    return [make.site(org, name="Ängen"), make.site(org, name="Backen")]


@pytest.fixture
def services(make, org):
    return [make.service(org, slug="sfi"), make.service(org, slug="so")]


@pytest.fixture
def admin(make, org):
    return make.user(org, role=Role.ADMIN)


@pytest.fixture
def signed_in(login, admin):
    login(admin)
    return admin


def form(sites=(), services=(), activities=(), **overrides) -> dict:
    data = {
        "name": "Vägen till arbete",
        "funder": Funder.LANSSTYRELSEN_37A.value,
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "sites": [str(s.id) for s in sites],
        "services": [str(s.id) for s in services],
        "activities": [str(a.id) for a in activities],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def stored_targets(project_id: int) -> set[tuple]:
    rows = db.session.execute(
        select(
            ProjectTarget.indicator,
            ProjectTarget.gender,
            ProjectTarget.service_id,
            ProjectTarget.target,
        ).where(ProjectTarget.project_id == project_id)
    )
    return {tuple(row) for row in rows}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def create(client, **kw):
    return client.post("/projects/new", data=form(**kw))


# --------------------------------------------------------------------------- create, edit, delete


def test_admin_creates_a_project_with_its_targets_stored_exactly(
    client, signed_in, make, org, sites, services
):
    activity = make.activity(sites[0], name="Språkcafé")
    sfi = services[0]
    data = form(
        sites=sites,
        services=[sfi],
        activities=[activity],
        **{
            "target-women_reached-all-all": "120",
            "target-participants-all-all": "650",
            "target-work_placements-all-woman": "10",
            "target-work_placements-all-man": " 10 ",
            f"target-referrals-{sfi.id}-woman": "50",
            f"target-started-{sfi.id}-all": "0",
            "target-visits-all-all": "",  # empty: no target
        },
    )
    response = client.post("/projects/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    project = db.session.scalar(select(Project))
    assert project.name == "Vägen till arbete"
    assert project.organisation_id == org.id and project.created_by_id == signed_in.id
    assert project.funder == Funder.LANSSTYRELSEN_37A
    assert (project.starts_on, project.ends_on) == (date(2026, 1, 1), date(2026, 12, 31))
    assert {s.id for s in project.sites} == {s.id for s in sites}
    assert [s.id for s in project.services] == [sfi.id]
    assert [a.id for a in project.activities] == [activity.id]
    assert stored_targets(project.id) == {
        (Indicator.WOMEN_REACHED, None, None, 120),
        (Indicator.PARTICIPANTS, None, None, 650),
        (Indicator.WORK_PLACEMENTS, Gender.WOMAN, None, 10),
        (Indicator.WORK_PLACEMENTS, Gender.MAN, None, 10),
        (Indicator.REFERRALS, Gender.WOMAN, sfi.id, 50),
        (Indicator.STARTED, None, sfi.id, 0),
    }
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "project_created"))
    assert (event.object_type, event.object_id) == ("project", project.id)


def test_the_same_form_posted_twice_stores_one_project(client, signed_in, sites):
    data = form(sites=sites, form_key="project-key-1")
    assert client.post("/projects/new", data=data).status_code == 303
    assert client.post("/projects/new", data=data).status_code == 303
    assert count(Project) == 1


def test_the_edit_page_shows_what_the_project_holds(client, signed_in, make, org, sites, services):
    sfi = services[0]
    project = make.project(
        org,
        name="Broar",
        sites=[sites[1]],
        services=[sfi],
        targets=[(Indicator.REFERRALS, Gender.MAN, sfi, 17), (Indicator.VISITS, None, None, 4321)],
    )
    html = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert 'value="Broar"' in html
    assert f'name="target-referrals-{sfi.id}-man" value="17"' in html
    assert 'name="target-visits-all-all" value="4321"' in html
    # Per-service rows for the chosen service only; the other service has none.
    assert f"target-referrals-{services[1].id}-" not in html


def test_editing_replaces_the_targets_and_links(client, signed_in, make, org, sites, services):
    sfi, so = services
    project = make.project(
        org,
        sites=[sites[0]],
        services=[sfi],
        targets=[
            (Indicator.REFERRALS, None, sfi, 40),
            (Indicator.VISITS, None, None, 1000),
            (Indicator.STARTED, Gender.WOMAN, None, 5),
        ],
    )
    data = form(
        sites=[sites[1]],
        services=[so],
        name="Nytt namn",
        funder=Funder.ESF.value,
        **{"target-visits-all-all": "1500", f"target-referrals-{so.id}-all": "30"},
    )
    response = client.post(f"/projects/{project.id}/edit", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    db.session.expire_all()
    project = db.session.get(Project, project.id)
    assert (project.name, project.funder) == ("Nytt namn", Funder.ESF)
    assert [s.id for s in project.sites] == [sites[1].id]
    assert [s.id for s in project.services] == [so.id]
    assert stored_targets(project.id) == {
        (Indicator.VISITS, None, None, 1500),
        (Indicator.REFERRALS, None, so.id, 30),
    }
    assert count(ProjectTarget) == 2  # the old rows are gone, not orphaned
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "project_updated"))
    assert set(event.detail["changed"]) == {"name", "funder", "sites", "services", "targets"}


def test_delete_asks_first_then_deletes_the_project_and_its_targets(
    client, signed_in, make, org, sites
):
    project = make.project(org, sites=sites, targets=[(Indicator.VISITS, None, None, 10)])
    asked = client.post(f"/projects/{project.id}/delete")
    assert asked.status_code == 200
    assert "Ja, ta bort" in asked.get_data(as_text=True)
    assert count(Project) == 1
    done = client.post(f"/projects/{project.id}/delete", data={"confirm": "1"})
    assert done.status_code == 303
    assert count(Project) == 0 and count(ProjectTarget) == 0
    assert len(sites) == 2 and all(db.session.get(type(s), s.id) for s in sites)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "project_deleted"))
    assert event.object_id == project.id


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("typed", ["-1", "2.5", "tio", "1e3", "1000001"])
def test_a_target_that_is_not_a_whole_number_from_zero_is_refused_beside_it(
    client, signed_in, sites, typed
):
    response = create(client, sites=sites, **{"target-participants-all-woman": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Skriv ett heltal från 0 till" in html
    assert 'id="target-participants-all-woman-error"' in html
    assert f'value="{typed}"' in html  # shown as typed, to correct
    assert count(Project) == 0 and count(ProjectTarget) == 0


def test_the_end_before_the_start_is_refused(client, signed_in, sites):
    response = create(client, sites=sites, starts_on="2026-06-01", ends_on="2026-05-31")
    assert response.status_code == 422
    assert "Sista dagen kan inte vara före den första." in response.get_data(as_text=True)
    assert count(Project) == 0


def test_a_missing_or_malformed_date_is_refused(client, signed_in, sites):
    response = create(client, sites=sites, starts_on="", ends_on="31/12/2026")
    assert response.status_code == 422
    assert response.get_data(as_text=True).count("Välj ett datum.") == 2
    assert count(Project) == 0


def test_a_period_outside_a_sites_lifetime_names_the_site(client, signed_in, sites):
    sites[0].opened_on = date(2026, 3, 1)
    sites[1].closed_on = date(2026, 10, 31)
    db.session.commit()
    response = create(client, sites=sites, starts_on="2026-02-01", ends_on="2026-11-30")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ängen öppnade 1 mars 2026. Projektet kan inte börja före det." in html
    assert "Backen stängde 31 oktober 2026. Projektet kan inte sluta efter det." in html
    assert count(Project) == 0
    # Inside both lifetimes it is stored.
    ok = create(client, sites=sites, starts_on="2026-03-01", ends_on="2026-10-31")
    assert ok.status_code == 303 and count(Project) == 1


def test_a_duplicate_name_in_the_organisation_is_refused(client, signed_in, make, org, sites):
    make.project(org, name="Vägen till arbete", sites=sites)
    response = create(client, sites=sites, name="vägen till arbete")
    assert response.status_code == 422
    assert "Det finns redan ett projekt med det namnet." in response.get_data(as_text=True)
    assert count(Project) == 1
    # Another organisation may use the name.
    make.project(make.org(), name="Broar")
    assert create(client, sites=sites, name="Broar").status_code == 303


def test_a_project_needs_a_name_a_funder_and_a_site(client, signed_in, sites):
    response = create(client, name="", funder="lottery")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Skriv ett namn." in html
    assert "Välj ett av alternativen." in html
    assert "Välj minst en förskola." in html
    assert count(Project) == 0


def test_an_activity_must_be_held_at_a_chosen_site(client, signed_in, make, sites):
    elsewhere = make.activity(sites[1], name="Föräldragrupp")
    response = create(client, sites=[sites[0]], activities=[elsewhere])
    assert response.status_code == 422
    assert "Aktiviteten Föräldragrupp (Backen) hålls inte" in response.get_data(as_text=True)
    assert count(Project) == 0


def test_a_target_for_a_service_not_chosen_is_refused(client, signed_in, sites, services):
    sfi = services[0]
    response = create(client, sites=sites, services=[], **{f"target-started-{sfi.id}-all": "5"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Välj tjänsten under Tjänster, eller töm rutan." in html
    assert f'name="target-started-{sfi.id}-all" value="5"' in html  # the row stays, not lost
    assert count(Project) == 0


# --------------------------------------------------------------------------- scope and access


def test_another_organisations_project_is_not_found(client, signed_in, make):
    other = make.org()
    theirs = make.project(other, sites=[make.site(other)])
    assert client.get(f"/projects/{theirs.id}/edit").status_code == 404
    assert client.post(f"/projects/{theirs.id}/edit", data=form()).status_code == 404
    assert client.post(f"/projects/{theirs.id}/delete", data={"confirm": "1"}).status_code == 404
    assert count(Project) == 1


def test_another_organisations_site_service_or_activity_is_not_found(
    client, signed_in, make, sites
):
    other = make.org()
    their_site = make.site(other)
    their_service = make.service(other)
    their_activity = make.activity(their_site)
    for data in (
        form(sites=[*sites, their_site]),
        form(sites=sites, services=[their_service]),
        form(sites=sites, activities=[their_activity]),
        form(sites=sites, **{f"target-referrals-{their_service.id}-all": "3"}),
        form(sites=sites, **{"target-referrals-x-all": "3"}),
        {**form(), "sites": ["99999999999"]},
    ):
        assert client.post("/projects/new", data=data).status_code == 404, data
    assert count(Project) == 0


@pytest.mark.parametrize("role", [Role.STAFF, Role.COORDINATOR])
def test_only_admins_keep_projects(client, login, make, org, sites, role):
    project = make.project(org, sites=sites)
    login(make.user(org, role=role, sites=sites))
    for url in ("/projects/", "/projects/new", f"/projects/{project.id}/edit"):
        assert client.get(url).status_code == 403, url
    assert client.post("/projects/new", data=form(sites=sites)).status_code == 403
    assert client.post(f"/projects/{project.id}/delete", data={"confirm": "1"}).status_code == 403
    assert count(Project) == 1
    mine = client.get("/referrals/mine")
    assert mine.status_code == 200 and 'href="/projects/"' not in mine.get_data(as_text=True)


def test_signed_out_is_sent_to_sign_in(client, make, org, sites):
    response = client.get("/projects/")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


# --------------------------------------------------------------------------- the list


def test_the_list_is_paginated_scoped_and_counted_in_sql(client, signed_in, make, org, sites):
    with make.one_commit():
        for i in range(30):
            make.project(
                org,
                name=f"Projekt {i:02d}",
                starts_on=date(2025, 1, 1) if i else date(2027, 1, 1),
                sites=sites if i == 0 else sites[:1],
                funder=Funder.SKR.value,
            )
        make.project(make.org(), name="Grannens projekt")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        first = client.get("/projects/").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert "Sida 1 av 2" in first and "Grannens projekt" not in first
    assert len(statements) <= 8  # the user, the count, the page, the site counts
    # Latest period first, with its funder's label and number of sites.
    assert first.index("Projekt 00") < first.index("Projekt 01")
    assert "Överenskommelse med SKR" in first
    row = first[first.index("Projekt 00") :].split("</tr>")[0]
    assert ">2<" in row
    second = client.get("/projects/?page=2").get_data(as_text=True)
    assert "Sida 2 av 2" in second


def test_the_list_and_the_form_link_to_the_report(client, signed_in, make, org, sites):
    project = make.project(org, sites=sites)
    report = f'href="/stats/projects/{project.id}"'
    assert report in client.get("/projects/").get_data(as_text=True)
    assert report in client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert "/stats/projects/" not in client.get("/projects/new").get_data(as_text=True)


def test_admins_find_projects_in_the_menu_and_on_the_admin_page(
    client, signed_in, login, make, org
):
    assert 'href="/projects/"' in client.get("/admin/").get_data(as_text=True)
    assert 'href="/projects/"' in client.get("/projects/").get_data(as_text=True)


def test_a_name_with_markup_is_shown_escaped_and_direction_controls_are_refused(
    client, signed_in, sites
):
    assert create(client, sites=sites, name="<script>alert(1)</script>").status_code == 303
    html = client.get("/projects/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    refused = create(client, sites=sites, name="Broar \u202egnp.exe")
    assert refused.status_code == 422
    assert count(Project) == 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_values_in_the_project_form_never_give_a_500(
    client, signed_in, make, org, sites, services, data
):
    project = db.session.scalar(select(Project).where(Project.name == "Fuzz")) or make.project(
        org, name="Fuzz", sites=sites
    )
    names = [
        "name",
        "funder",
        "starts_on",
        "ends_on",
        "sites",
        "services",
        "activities",
        "confirm",
        "form_key",
        "target-visits-all-all",
        "target-referrals-all-woman",
        f"target-referrals-{services[0].id}-man",
        "target-started-x-all",
    ]
    values = st.one_of(
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30),
        st.integers(min_value=-(2**63), max_value=2**63).map(str),
        st.sampled_from(["", "2026-02-30", "0001-01-01", "9999-12-31", str(sites[0].id), "-0"]),
    )
    posted = data.draw(st.dictionaries(st.sampled_from(names), values, max_size=8))
    url = data.draw(st.sampled_from(["/projects/new", f"/projects/{project.id}/edit"]))
    response = client.post(url, data=posted)
    assert response.status_code < 500, (url, posted)
    db.session.rollback()
