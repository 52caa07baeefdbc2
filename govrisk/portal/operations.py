"""Citizen feedback: submission with a per-address rate limit kept in the database, and inspector triage."""

import hashlib
import hmac
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import gettext as _

from govrisk.catalog.queries import public_version, reference_names
from govrisk.core.audit import log_change, record_create
from govrisk.core.errors import UserError
from govrisk.core.types import utcnow
from govrisk.extensions import db
from govrisk.org.models import Department
from govrisk.portal import queries
from govrisk.portal.models import Feedback
from govrisk.workflow.engine import fire

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
CODE_LENGTH = 12  # 60 random bits after the prefix: not guessable
TEXT_MIN, TEXT_MAX, CONTACT_MAX = 5, 2000, 100


class RateLimited(UserError):
    status_code = 429


def client_address() -> str:
    """The sender's address; behind N trusted proxies (config TRUSTED_PROXIES) the Nth address from the right."""
    trusted = int(current_app.config.get("TRUSTED_PROXIES", 0) or 0)
    route = list(request.access_route) if trusted else []
    if trusted and len(route) > trusted:
        return route[-(trusted + 1)]
    return request.remote_addr or ""


def address_hash(address: str) -> str:
    """A keyed hash of the address: enough to count per sender, useless for finding out who they are."""
    key = (current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, f"feedback:{address}".encode(), hashlib.sha256).hexdigest()


def new_tracking_code() -> str:
    while True:
        code = "FK" + "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(sa.select(Feedback.id).where(Feedback.tracking_code == code)) is None:
            return code


def format_code(code: str) -> str:
    """FKABCD… shown in groups of four for reading: FK-ABCD-EFGH-JKLM."""
    body = code[2:]
    return "FK-" + "-".join(body[i:i + 4] for i in range(0, len(body), 4))


def check_rate(hashed: str) -> None:
    limit = int(current_app.config.get("FEEDBACK_RATE_LIMIT", 5))
    minutes = int(current_app.config.get("FEEDBACK_RATE_WINDOW_MINUTES", 60))
    if queries.recent_submissions(hashed, utcnow() - timedelta(minutes=minutes)) >= limit:
        raise RateLimited(_("提交过于频繁：同一网络地址 %(minutes)s 分钟内最多提交 %(limit)s 件，请稍后再试。"
                            "紧急情况请拨打页面上的监督电话。", minutes=minutes, limit=limit))


def submit_feedback(data: dict, *, address: str) -> Feedback:
    """Record feedback from the public (no account); returns it with its tracking code."""
    category = (data.get("category") or "").strip()
    text = (data.get("text") or "").replace("\r\n", "\n").strip()
    contact = (data.get("contact") or "").strip()
    if category not in reference_names("feedback_category"):
        raise UserError(_("请选择反馈类别。"), field="category")
    if len(text) < TEXT_MIN:
        raise UserError(_("请具体描述反映的问题（至少 %(n)s 个字）。", n=TEXT_MIN), field="text")
    if len(text) > TEXT_MAX:
        raise UserError(_("内容不能超过 %(n)s 个字。", n=TEXT_MAX), field="text")
    if len(contact) > CONTACT_MAX:
        raise UserError(_("联系方式不能超过 %(n)s 个字。", n=CONTACT_MAX), field="contact")
    power_id = department_id = None
    if data.get("power_code"):
        version = public_version(data["power_code"])
        if version is None:
            raise UserError(_("所反映的职权事项不存在或未公开。"), field="power_code")
        power_id, department_id = version.power_id, version.department_id
    elif data.get("department_id"):
        department = db.session.get(Department, int(data["department_id"]))
        if department is None or department.is_retired:
            raise UserError(_("所选单位不存在。"), field="department_id")
        department_id = department.id
    hashed = address_hash(address)
    check_rate(hashed)
    feedback = Feedback(tracking_code=new_tracking_code(), category=category, power_id=power_id,
                        department_id=department_id, contact=contact, text=text, address_hash=hashed)
    record_create("portal.feedback.submit", feedback, actor=None)
    return feedback


def triage_feedback(feedback: Feedback, name: str, *, actor, comment: str | None = None,
                    expected_version: int | None = None):
    """Accept or reject (with a reason, which the citizen sees on the status page)."""
    feedback.check_version(expected_version)
    event = fire(feedback, name, actor=actor, comment=comment)
    feedback.reply = (comment or "").strip()
    feedback.handled_by_id = actor.id
    feedback.handled_at = utcnow()
    db.session.flush()
    return event


def link_feedback_to_finding(feedback: Feedback, finding_id: int, *, actor) -> None:
    """For the accountability domain: record the finding opened from accepted feedback."""
    if feedback.state.value != "accepted":
        raise UserError(_("只有已受理的反馈可以关联问题线索。"))
    before = feedback.finding_id
    feedback.finding_id = finding_id
    feedback.bump_version()
    db.session.flush()
    log_change("portal.feedback.link_finding", feedback, actor=actor, changes={"finding_id": [before, finding_id]})
