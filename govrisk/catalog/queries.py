"""Read side of the catalog."""

import sqlalchemy as sa

from govrisk.catalog.models import Power
from govrisk.extensions import db


def get_power_by_code(code: str) -> Power | None:
    """The power (working copy) with this code, or None."""
    if not code:
        return None
    return db.session.scalar(sa.select(Power).where(Power.code == code.strip()))
