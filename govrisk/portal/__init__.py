"""The public portal: the published catalog, power pages and citizen feedback (no login)."""
