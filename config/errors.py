"""Domain errors (design 9): what services, rules, populations and DDL raise. No HTTP here.

Every layer above maps them in one place: the API's exception handler (``config.api.errors``)
answers 400 / 403 / 404 / 409 / 429, the admin shows ``str(exc)`` as a message or puts
``errors`` beside their fields, commands print ``errors`` with their paths.

- ``ValidationFailed(errors, document=None)``: a malformed document; ``errors`` is
  ``[{"path", "message"}]`` with design 5.0 paths (``activities[2].where.and[1].field``; ``""``
  for the whole document); ``document``, when given, is what the paths point into, so the admin
  can say them in words (``campaigns.words``: the activity's label, not ``activities[2]``).
- ``Conflict(message)``: an action in a state where it does not apply.
- ``Forbidden(message, permission=None)``: the acting user lacks ``permission``
  (``"app_label.codename"``); the message names it ("Publishing needs campaigns.publish_campaign").
- ``TooSoon(message, wait=None)``: repeated before its minimum interval; ``wait`` in seconds.
- ``NotFound(message)``: a named object does not exist.

``str(exc)`` is always a sentence for people; ``exc.detail`` is the same text (the name the rest
of the code already reads).
"""


class DomainError(Exception):
    """Base class: ``message`` is a sentence for people."""

    default_message = "The operation was refused."

    def __init__(self, message=None):
        self.message = str(message or self.default_message)
        super().__init__(self.message)

    @property
    def detail(self):
        return self.message


class ValidationFailed(DomainError):
    """A malformed document: ``errors`` is a list of ``{"path", "message"}``."""

    default_message = "Invalid input."

    def __init__(self, errors, document=None):
        self.errors = [{"path": str(e["path"]), "message": str(e["message"])} for e in errors]
        self.document = document  # what the paths point into, when known: to name them in words
        super().__init__("; ".join(_line(e) for e in self.errors) or self.default_message)

    def prefixed(self, prefix):
        """The same errors with ``prefix`` in front of each path (``records[3]`` + ``.email``)."""
        return ValidationFailed([{**e, "path": join(prefix, e["path"])} for e in self.errors])


class Conflict(DomainError):
    default_message = "This action does not apply in the current state."


class Forbidden(DomainError):
    default_message = "You do not have permission to do this."

    def __init__(self, message=None, permission=None):
        self.permission = permission
        super().__init__(message)


class TooSoon(DomainError):
    default_message = "Too many requests."

    def __init__(self, message=None, wait=None):
        self.wait = wait
        super().__init__(message)


class NotFound(DomainError):
    default_message = "Not found."


def _line(error):
    return f"{error['path']}: {error['message']}" if error["path"] else error["message"]


def join(prefix, path):
    """``join("records[3]", "email")`` -> ``records[3].email``; list items need no dot."""
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def error(path, message):
    """One error entry."""
    return {"path": path, "message": message}
