"""The catalogue's commands: `flask catalogue-export PATH` and `flask catalogue-import PATH`."""

from pathlib import Path

import click
from flask import Flask

from ..extensions import db
from .catalogue import CatalogueError, command_org, export_json, import_catalogue, load_json


def register(app: Flask) -> None:
    @app.cli.command("catalogue-export")
    @click.argument("path", type=click.Path(dir_okay=False, writable=True))
    @click.option("--org", "org_slug", default=None, help="Organisation slug (default: first).")
    def catalogue_export(path, org_slug):
        """Write the service catalogue as HSDS 3.0 JSON (our profile, version 2) to PATH."""
        org = command_org(org_slug)
        Path(path).write_text(export_json(org) + "\n", encoding="utf-8")
        click.echo(f"Exported the catalogue of {org.slug} to {path}")

    @app.cli.command("catalogue-import")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--org", "org_slug", default=None, help="Organisation slug (default: first).")
    def catalogue_import(path, org_slug):
        """Create or update services from a catalogue file, version 2 (HSDS 3.0) or 1: matched
        by UUID, then slug; all or nothing."""
        org = command_org(org_slug)
        try:
            result = import_catalogue(org, load_json(Path(path).read_bytes()))
        except CatalogueError as error:
            db.session.rollback()
            raise click.ClickException("\n".join(error.errors)) from None
        db.session.commit()
        click.echo(
            f"Imported into {org.slug}: {result['created']} new, {result['updated']} updated"
        )
