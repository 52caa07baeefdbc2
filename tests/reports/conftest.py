"""Shared fixtures of the review, accountability and reports tests (see tests/review_support.py)."""

from tests.review_support import city, in_request, new_cycle  # noqa: F401
