"""Packaging glue: templates/ and seed/ live at the top of the repository (DESIGN §2) but travel inside the wheel."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["govrisk", "govrisk.*"]), "govrisk.templates", "govrisk.seed"],
    package_dir={"govrisk.templates": "templates", "govrisk.seed": "seed"},
)
