"""Findings, rectification and accountability (考核整改和责任追究)."""
