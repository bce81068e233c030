"""The queue's command: `flask send-digests`, each working morning from cron."""

import smtplib

import click
from flask import Flask, current_app

from .digest import send_digests


def register(app: Flask) -> None:
    @app.cli.command("send-digests")
    def send_digests_command():
        """E-mail each coordinator today's new and overdue counts per service (no personal data)."""
        if not current_app.config.get("SMTP_HOST"):
            click.echo("SMTP_HOST is not set; no digests were sent.")
            return
        try:
            sent = send_digests()
        except (OSError, smtplib.SMTPException) as error:
            raise click.ClickException(f"Could not send digests: {error}") from error
        click.echo(f"Digests sent: {sent}")
