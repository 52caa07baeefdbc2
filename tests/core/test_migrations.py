"""The migrations produce exactly the schema the models declare (on the database under test)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from govrisk.extensions import db


def test_migrations_match_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": _not_test_only})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def _not_test_only(name, type_, parent_names) -> bool:
    # tests/support.py creates a table of its own beside the migrated schema
    return not (type_ == "table" and name.startswith("test_"))
