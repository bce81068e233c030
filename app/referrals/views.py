"""The referral area's pages, in two modules by the visitor's path: `flow` (services, consent,
contact details) and `records` (what follows a consent). Importing them attaches their routes
to the area's blueprint."""

from . import flow, records

__all__ = ["flow", "records"]
