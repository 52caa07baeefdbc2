"""Imports every model module so that mappers, Alembic and create_all see all tables."""

from govrisk.accountability import models as accountability_models  # noqa: F401
from govrisk.auth import models as auth_models  # noqa: F401
from govrisk.campaigns import models as campaigns_models  # noqa: F401
from govrisk.catalog import models as catalog_models  # noqa: F401
from govrisk.core import audit, importer, reference  # noqa: F401
from govrisk.flows import models as flows_models  # noqa: F401
from govrisk.org import models as org_models  # noqa: F401
from govrisk.portal import models as portal_models  # noqa: F401
from govrisk.review import models as review_models  # noqa: F401
from govrisk.risks import models as risks_models  # noqa: F401
from govrisk.supervision import models as supervision_models  # noqa: F401
from govrisk.workflow import models as workflow_models  # noqa: F401
