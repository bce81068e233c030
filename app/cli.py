"""The core's commands: `flask purge-expired` (retention of contact details and of the audit
log), `flask rotate-keys`, `flask send-outbox` (messages to visitors), `flask audit-verify`,
`flask backup` and `flask restore`. Each area
adds its own in its `commands` module; create_app registers them all in one step."""

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("purge-expired")
    def purge_expired_command():
        """Close referrals open too long, erase contact details past retention, remove audit
        events past theirs and form keys past their sign-in (cron-safe)."""
        from .audit import purge_old_events
        from .database import write_intent
        from .metrics import count_purge
        from .privacy import purge_expired
        from .web import purge_form_keys

        # Reset afterwards: a command run inside a longer-lived process (the test suite) must
        # not leave every later transaction of that thread starting with BEGIN IMMEDIATE.
        token = write_intent.set(True)
        try:
            result = purge_expired()
            click.echo(
                f"Expired referrals closed: {result['expired']}; "
                f"contact details erased: {result['erased']}"
            )
            audit_events = purge_old_events()
            click.echo(f"Audit events past retention removed: {audit_events}")
            count_purge("expired", result["expired"])  # for /metrics (app/metrics.py)
            count_purge("erased", result["erased"])
            count_purge("audit_events", audit_events)
            form_keys = purge_form_keys()
            click.echo(f"Form keys past their sign-in removed: {form_keys}")
            count_purge("form_keys", form_keys)
        finally:
            write_intent.reset(token)

    @app.cli.command("rotate-keys")
    def rotate_keys_command():
        """Re-encrypt contact details under a new key; destroy keys retired longer ago than
        BACKUP_RETENTION_DAYS (run monthly from cron, after the backup job)."""
        from .database import write_intent
        from .privacy import rotate_keys

        token = write_intent.set(True)
        try:
            result = rotate_keys()
        finally:
            write_intent.reset(token)
        click.echo(f"New key {result['key']}; contact details re-encrypted: {result['rows']}")
        click.echo(f"Queued messages re-encrypted: {result['messages']}")
        click.echo(f"Keys destroyed: {', '.join(result['destroyed']) or 'none'}")
        if result["kept"]:
            click.echo(f"Still in use, kept until the next rotation: {', '.join(result['kept'])}")

    @app.cli.command("send-outbox")
    @click.option("--limit", default=200, show_default=True, help="Messages per run, at most.")
    def send_outbox_command(limit: int):
        """Send the messages to visitors that are due (run every minute or few from cron or a
        systemd timer; two runs at once never send one message twice). A provider that is
        down keeps its messages queued for a later run; the command exits 0."""
        from .outbox import configured_channels, send_outbox

        report = send_outbox(limit=limit)
        click.echo(
            f"Sent: {report['sent']}; failed: {report['failed']}; "
            f"queued again for a later try: {report['retried']}; "
            f"released after an interrupted run: {report['released']}"
        )
        if report["waiting"]:
            missing = {"sms": "SMS_PROVIDER and SMS_API_URL", "email": "SMTP_HOST"}
            unset = [v for k, v in missing.items() if k not in configured_channels()]
            click.echo(
                f"Not configured ({', '.join(unset)}): {report['waiting']} message(s) stay "
                "queued until it is."
            )

    from .audit import register_commands as register_audit_commands
    from .backup import register as register_backup

    register_audit_commands(app)
    register_backup(app)
