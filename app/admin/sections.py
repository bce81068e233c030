"""Imports every admin section module so its views are registered on the blueprint."""

from . import (
    audit,  # noqa: F401
    consent_texts,  # noqa: F401
    services,  # noqa: F401
    settings,  # noqa: F401
    sites,  # noqa: F401
    users,  # noqa: F401
)
