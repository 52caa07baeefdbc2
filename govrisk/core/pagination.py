"""The one pagination helper: counts and slices a select() in SQL."""

import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, request

from govrisk.extensions import db


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.per_page, self.total)

    def window(self, size: int = 2) -> list[int | None]:
        """Page numbers to show, with None for a gap."""
        shown = {1, self.pages} | set(range(max(1, self.page - size), min(self.pages, self.page + size) + 1))
        out, last = [], 0
        for n in sorted(shown):
            if n - last > 1:
                out.append(None)
            out.append(n)
            last = n
        return out


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except (TypeError, ValueError):
        return default


def paginate(stmt, *, page: int | None = None, per_page: int | None = None, scalars: bool = True) -> Page:
    """Run stmt for one page; page/per_page default to the request's ?page=&per_page= (capped at 200)."""
    per_page = min(per_page or _int_arg("per_page", current_app.config["PAGE_SIZE"]), 200)
    page = page or _int_arg("page", 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(page, max(1, math.ceil(total / per_page)))
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items = list(result.scalars()) if scalars else list(result)
    return Page(items, total, page, per_page)


def stream(stmt, *, batch: int = 500):
    """Every row of an ordered select(), fetched `batch` at a time (exports that must not load a whole table)."""
    offset = 0
    while True:
        rows = list(db.session.scalars(stmt.limit(batch).offset(offset)))
        yield from rows
        if len(rows) < batch:
            return
        offset += batch
