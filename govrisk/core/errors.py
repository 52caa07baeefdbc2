"""Errors that carry a message meant for the user; the base view turns them into 4xx answers."""


class UserError(Exception):
    """A refusal the user can understand and correct; nothing was changed."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}

    def to_dict(self) -> dict:
        payload = {"message": self.message, "type": type(self).__name__}
        if self.field:
            payload["field"] = self.field
        if self.details:
            payload["details"] = self.details
        return payload


class NotFound(UserError):
    status_code = 404


class Forbidden(UserError):
    status_code = 403


class StaleEditError(UserError):
    """Someone else saved the record after this form was loaded."""

    status_code = 409


class WorkflowError(UserError):
    status_code = 409
