"""Risk register: risk points on powers, steps and posts, grading, control measures, key posts and rotation."""
