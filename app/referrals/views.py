"""The referral area's pages, in three modules by the visitor's path: `flow` (services,
consent, contact details), `records` (what follows a consent) and `status` (her own public
page on where her referrals stand). Importing them attaches their routes to the area's
blueprint."""

from . import flow, records, status

__all__ = ["flow", "records", "status"]
