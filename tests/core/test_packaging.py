"""The wheel carries every module: find_packages only sees directories with an __init__.py."""

from pathlib import Path

from setuptools import find_packages

import govrisk

PACKAGE_ROOT = Path(govrisk.__file__).parent
NOT_PACKAGES = {"migrations"}  # shipped as package data, loaded by Alembic from its directory


def _source_directories():
    for path in PACKAGE_ROOT.rglob("*.py"):
        relative = path.parent.relative_to(PACKAGE_ROOT)
        if relative.parts and relative.parts[0] in NOT_PACKAGES:
            continue
        yield path.parent


def test_every_source_directory_is_a_package_the_wheel_will_include():
    found = set(find_packages(str(PACKAGE_ROOT.parent), include=["govrisk", "govrisk.*"]))
    for directory in set(_source_directories()):
        dotted = ".".join(("govrisk", *directory.relative_to(PACKAGE_ROOT).parts))
        assert dotted in found, f"{dotted} has modules but no __init__.py: the wheel would leave it out"
