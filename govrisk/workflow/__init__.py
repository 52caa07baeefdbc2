"""The one workflow engine: definitions as data, `fire`, `available`, history."""

from govrisk.workflow.engine import Transition, Workflow, available, fire, history_for  # noqa: F401
