"""Annual review cycles and assessment (年度检查考核)."""
