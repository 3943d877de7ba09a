"""API permissions: staff only, Django model permissions, and named custom permissions per action.

``StaffModelPermissions`` (the default permission class) decides, for each request:

1. Anonymous: refused; DRF answers 401 with ``WWW-Authenticate: Token`` (token authentication comes
   first in ``DEFAULT_AUTHENTICATION_CLASSES``).
2. Authenticated but not staff: 403 ``{"detail": "The API is for staff only."}``.
3. Superusers: allowed.
4. Model permission, for views with a model: the model is ``view.permission_model`` when the view
   sets it (``None`` skips this step, e.g. for views over runtime schema models, which have no
   Django permissions), else the model of ``view.queryset`` / ``view.get_queryset()``.
   The permission follows the HTTP method: ``GET``/``HEAD``/``OPTIONS`` need ``view_<model>``,
   ``POST`` ``add_<model>``, ``PUT``/``PATCH`` ``change_<model>``, ``DELETE`` ``delete_<model>``.
   A viewset's extra actions (``@action``: publish, pause, test-run...) need ``view_<model>``
   whatever the method: the service behind each enforces the permission of its row in the
   lifecycle table (``campaigns.lifecycle``), so the API, the admin and commands agree.
5. Named custom permissions: ``view.required_permissions`` maps a viewset action name (``"publish"``,
   ``"create"``...) or, for plain APIViews, a lower-case HTTP method (``"post"``) to a list of
   ``"app_label.codename"`` strings, all of which the user needs, in addition to step 4.

A missing permission gives 403 ``{"detail": "<Doing it> needs app_label.codename"}``, naming the
first missing permission: "Publishing needs campaigns.publish_campaign". ``<Doing it>`` comes from
``view.permission_labels[action]`` when given, else from the action's name.
"""

from rest_framework.permissions import BasePermission

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
METHOD_CODENAMES = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}
STANDARD_ACTIONS = {"list", "retrieve", "create", "update", "partial_update", "destroy", "metadata"}
ACTION_LABELS = {
    "list": "Listing",
    "retrieve": "Reading",
    "create": "Creating",
    "update": "Changing",
    "partial_update": "Changing",
    "destroy": "Deleting",
    "metadata": "Reading",
    "get": "Reading",
    "head": "Reading",
    "options": "Reading",
    "post": "Creating",
    "put": "Changing",
    "patch": "Changing",
    "delete": "Deleting",
}
VOWELS = "aeiou"


def gerund(word):
    """``publish`` → ``publishing``, ``pause`` → ``pausing``, ``stop`` → ``stopping``."""
    if word.endswith("e") and not word.endswith("ee"):
        return word[:-1] + "ing"
    short_cvc = (
        len(word) <= 4
        and len(word) >= 3
        and word[-1] not in VOWELS + "wxy"
        and word[-2] in VOWELS
        and word[-3] not in VOWELS
    )
    return word + word[-1] + "ing" if short_cvc else word + "ing"


def action_label(view, key):
    labels = getattr(view, "permission_labels", None) or {}
    if key in labels:
        return labels[key]
    if key in ACTION_LABELS:
        return ACTION_LABELS[key]
    words = key.split("_")
    if len(words) == 1:
        return gerund(key).capitalize()
    return " ".join(words).capitalize()


def permission_model(view):
    if hasattr(view, "permission_model"):
        return view.permission_model
    queryset = getattr(view, "queryset", None)
    if queryset is None and hasattr(view, "get_queryset"):
        try:
            queryset = view.get_queryset()
        except AssertionError:  # a GenericAPIView without a queryset
            queryset = None
    return None if queryset is None else queryset.model


def model_codename(view, method):
    """The model permission's verb for this request (contract step 4)."""
    action = getattr(view, "action", None)
    if action and action not in STANDARD_ACTIONS:
        return "view"
    return METHOD_CODENAMES.get(method)


def needed_permissions(view, method):
    """Every permission this request needs, in order: the model one, then the named ones."""
    perms = []
    model = permission_model(view)
    codename = model_codename(view, method)
    if model is not None and codename:
        opts = model._meta
        perms.append(f"{opts.app_label}.{codename}_{opts.model_name}")
    key = getattr(view, "action", None) or method.lower()
    perms += list((getattr(view, "required_permissions", None) or {}).get(key, ()))
    return key, perms


class StaffModelPermissions(BasePermission):
    """Staff only, plus model and named custom permissions (module docstring)."""

    message = "The API is for staff only."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not user.is_staff:
            self.message = "The API is for staff only."
            return False
        if user.is_superuser:
            return True
        key, perms = needed_permissions(view, request.method)
        for perm in perms:
            if not user.has_perm(perm):
                self.message = f"{action_label(view, key)} needs {perm}"
                return False
        return True
