"""The administration's commands: `flask create-organisation`, `flask create-user` and
`flask seed-demo` (a demo municipality with sample data of every area)."""

import re
import secrets
import string
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from ..auth.passwords import hash_password, policy_problem
from ..choices import Role
from ..extensions import db
from ..i18n import LOCALES
from ..info.catalogue import seed_core_services
from ..models import Organisation, Site, User
from .consent_versions import seed_consent_texts, seed_follow_up_texts, seed_message_texts

DEMO_ORG_SLUG = "demo"


def random_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def make_user(
    org: Organisation,
    email: str,
    name: str,
    role: str,
    password: str,
    sites: list[Site] = (),
    locale: str | None = None,
) -> User:
    user = User(
        organisation=org,
        email=email.lower(),
        name=name,
        role=role,
        password_hash=hash_password(password),
        locale=locale,
        session_token=secrets.token_hex(32),
    )
    user.sites = list(sites)
    db.session.add(user)
    return user


def register(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value)
    @click.option("--org", "org_slug", required=True, help="Organisation slug.")
    @click.option("--site", "site_names", multiple=True, help="Site name (repeatable).")
    @click.option("--locale", type=click.Choice(list(LOCALES)), default=None)
    @click.password_option()
    def create_user(email, name, role, org_slug, site_names, locale, password):
        """Create a user; the password is asked for twice and checked against the policy."""
        if problem := policy_problem(password):
            raise click.ClickException(f"Password refused: {problem}")
        org = db.session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if org is None:
            raise click.ClickException(f"No organisation with slug {org_slug!r}")
        sites = [s for s in org.sites if s.name in site_names]
        if len(sites) != len(set(site_names)):
            raise click.ClickException("Unknown site name")
        make_user(org, email, name, role, password, sites, locale)
        db.session.commit()
        click.echo(f"Created {email} ({role})")

    @app.cli.command("create-organisation")
    @click.option("--name", required=True, help="The municipality's name, shown to visitors.")
    @click.option("--slug", required=True, help="Short name used by other commands (--org).")
    @click.option("--site", "site_names", multiple=True, help="An open preschool (repeatable).")
    def create_organisation_command(name, slug, site_names):
        """Create an organisation with its sites, the core services and the consent texts."""
        org = create_organisation(name, slug, site_names)
        db.session.commit()
        click.echo(f"Created organisation {org.slug!r} with {len(site_names)} site(s)")

    @app.cli.command("seed-message-texts")
    def seed_message_texts_command():
        """Give every organisation without message texts (an installation from before the
        messages to visitors) the first published version of each; idempotent."""
        orgs = db.session.scalars(select(Organisation).order_by(Organisation.id)).all()
        seeded = [org.slug for org in orgs if seed_message_texts(org)]
        db.session.commit()
        click.echo(f"Message texts seeded for {len(seeded)} organisation(s): {', '.join(seeded)}")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Seed a demo municipality with two sites and one user per role, once.

        Passwords are random; they are printed and kept in instance/demo-logins.txt.
        """
        if db.session.scalar(select(Organisation).where(Organisation.slug == DEMO_ORG_SLUG)):
            click.echo("The demo organisation exists already.")
            return
        logins = create_demo()
        lines = [f"  {role:<12} {email:<32} {password}" for role, email, password in logins]
        text = "Demo logins:\n" + "\n".join(lines) + "\n"
        path = Path(current_app.instance_path) / "demo-logins.txt"
        path.write_text(text)
        path.chmod(0o600)
        click.echo(text)


SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")


def create_organisation(name: str, slug: str, site_names: tuple[str, ...] = ()) -> Organisation:
    """A new organisation ready to work: its sites, the core services with their texts and a
    published consent text in every locale (admins then edit both in the admin screens)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise click.ClickException("The name must be 1 to 120 characters.")
    if not SLUG_PATTERN.fullmatch(slug):
        raise click.ClickException("The slug is 3 to 60 of a-z, 0-9 and -, e.g. 'orebro'.")
    if db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        raise click.ClickException(f"An organisation with slug {slug!r} exists already.")
    names = [n.strip() for n in site_names]
    if any(not n or len(n) > 120 for n in names) or len(set(names)) != len(names):
        raise click.ClickException("Site names must be 1 to 120 characters and different.")
    org = Organisation(name=name, slug=slug)
    db.session.add(org)
    db.session.add_all(Site(organisation=org, name=n) for n in names)
    db.session.flush()
    seed_core_services(org)
    seed_consent_texts(org)
    seed_follow_up_texts(org)
    seed_message_texts(org)
    return org


def create_demo() -> list[tuple[str, str, str]]:
    """The demo organisation, its sites and users, and sample data of each area."""
    org = Organisation(name="Demo kommun", slug=DEMO_ORG_SLUG)
    north = Site(organisation=org, name="Öppna förskolan Norr")
    south = Site(organisation=org, name="Öppna förskolan Söder")
    db.session.add_all([org, north, south])
    people = [
        (Role.STAFF, "brobyggare@demo.test", "Amina (brobyggare)", [north], "sv"),
        (Role.COORDINATOR, "samordnare@demo.test", "Sara (samordnare)", [north, south], "sv"),
        (Role.ADMIN, "admin@demo.test", "Erik (admin)", [], "sv"),
    ]
    logins = []
    for role, email, name, sites, locale in people:
        password = random_password()
        make_user(org, email, name, role, password, sites, locale)
        logins.append((role.value, email, password))
    db.session.flush()
    from ..followup.demo import seed_demo_follow_ups
    from ..partners.demo import (
        DEMO_PARTNER_EMAIL,
        DEMO_PARTNER_NAME,
        seed_demo_inbound,
        seed_demo_partners,
    )
    from ..programme.demo import seed_demo_programme
    from ..projects.demo import seed_demo_projects
    from ..queue.demo import seed_queue_demo
    from ..stats.demo import seed_demo as seed_stats_demo
    from ..visits.demo import seed_demo_visits
    from .demo import seed_demo_local_details, seed_demo_security

    seed_demo_security(org)
    seed_core_services(org)
    seed_demo_local_details(org)
    seed_consent_texts(org)
    seed_demo_visits(org)
    seed_stats_demo(org)
    seed_demo_programme(org)  # after the services: its activities link to them
    seed_queue_demo(org)  # last: it reuses the services and consent text seeded before it
    seed_follow_up_texts(org)  # after the queue's demo, which takes the newest Swedish text
    seed_message_texts(org)  # after it too, for the same reason
    seed_demo_projects(org)  # after the programme: projects cover some of its activities
    seed_demo_follow_ups(org)  # after the follow-up texts, which some consents agree to
    sfi_centrum = seed_demo_partners(org)  # after the services they receive
    password = random_password()
    partner = make_user(
        org, DEMO_PARTNER_EMAIL, DEMO_PARTNER_NAME, Role.PARTNER, password, [], "sv"
    )
    partner.partner = sfi_centrum  # no TOTP secret: the first sign-in enrols
    logins.append((Role.PARTNER.value, DEMO_PARTNER_EMAIL, password))
    db.session.flush()
    seed_demo_inbound(org)  # after the partner's user, who works them
    db.session.commit()
    return logins
