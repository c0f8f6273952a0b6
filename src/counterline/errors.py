"""Errors a user can cause and can fix: shown to them as a translated message."""

from __future__ import annotations

from counterline.i18n import gettext


class UserError(Exception):
    """Bad input or a forbidden action. ``message`` is a gettext msgid (marked with N_)."""

    status_code = 400

    def __init__(self, message: str, *, status_code: int | None = None, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        if status_code is not None:
            self.status_code = status_code

    def translated(self) -> str:
        return gettext(self.message, **self.params)


class NotFound(UserError):
    status_code = 404


class Forbidden(UserError):
    status_code = 403


class PasswordChangeRequired(Forbidden):
    """Logged in with a one-time password: only the password change is open."""


class Unauthorized(UserError):
    status_code = 401


class TooManyRequests(UserError):
    status_code = 429

    def __init__(self, message: str, *, retry_after: int, **params: object) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after
