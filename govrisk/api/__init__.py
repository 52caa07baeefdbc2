"""The JSON API (`/api/v1/…`): anonymous callers and API tokens."""
