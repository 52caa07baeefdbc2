"""Read side of the portal: feedback lookups and the inspector inbox; the flow-chart hook for the flows domain."""

from datetime import datetime

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from govrisk.core.pagination import paginate
from govrisk.extensions import db
from govrisk.portal.models import Feedback
from govrisk.portal.workflow import FeedbackState


def flow_chart_for(power_code: str, *, public: bool) -> Markup | None:
    """FLOWS HOOK (issue 4): the SVG flow chart of a power, or None (nothing is drawn).

    On the portal (`public=True`) only the *external* flow of a published, public power may be returned —
    never an internal flow. Inside the system (`public=False`) the caller is already allowed to see the power.
    Drawn by the flows domain (govrisk.flows.queries.flow_chart_for).
    """
    from govrisk.flows.queries import flow_chart_for as flows_chart_for

    return flows_chart_for(power_code, public=public)


def feedback_by_code(code: str) -> Feedback | None:
    code = (code or "").strip().upper().replace("-", "").replace(" ", "")
    if not code:
        return None
    return db.session.scalar(sa.select(Feedback).where(Feedback.tracking_code == code))


def recent_submissions(address_hash: str, since: datetime) -> int:
    """How many pieces of feedback this address sent since `since` (index: address_hash, created_at)."""
    return db.session.scalar(sa.select(sa.func.count(Feedback.id)).where(
        Feedback.address_hash == address_hash, Feedback.created_at >= since)) or 0


def search_feedback(*, state: str = "", category: str = "", q: str = ""):
    """A page of the inbox, newest first; unhandled feedback unless another state is asked for."""
    stmt = sa.select(Feedback).options(selectinload(Feedback.power), selectinload(Feedback.department))
    if state == "all":
        pass
    elif state in {s.value for s in FeedbackState}:
        stmt = stmt.where(Feedback.state == FeedbackState(state))
    else:
        stmt = stmt.where(Feedback.state == FeedbackState.RECEIVED)
    if category:
        stmt = stmt.where(Feedback.category == category)
    if q:
        like = q.strip()
        stmt = stmt.where(sa.or_(Feedback.tracking_code == like.upper(), Feedback.text.contains(like, autoescape=True)))
    return paginate(stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc()))


def state_counts() -> dict[str, int]:
    rows = db.session.execute(sa.select(Feedback.state, sa.func.count()).group_by(Feedback.state))
    return {state.value: n for state, n in rows}
