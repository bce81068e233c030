"""The statistics' command: `flask stats-rebuild`."""

import click
from flask import Flask
from sqlalchemy import func, select

from ..database import write_transaction
from ..extensions import db
from ..models import VisitDaySummary
from . import summary


def register(app: Flask) -> None:
    @app.cli.command("stats-rebuild")
    def stats_rebuild_command():
        """Recompute the visit summaries from the visits (after an import or a repair)."""
        with write_transaction():
            summary.rebuild(db.session)
        days = db.session.scalar(select(func.count()).select_from(VisitDaySummary))
        click.echo(f"Rebuilt the visit summaries: {days} site days.")
