"""The API base every endpoint under ``/api/`` builds on (design 5.0 and 6). A new endpoint gets
all of it by being a DRF view with the default settings: nothing to call, nothing to list.

- ``errors``: the one error format (400 ``{"errors": [{"path", "message"}]}``, 409/403/404/405/429
  ``{"detail"}``, JSON 500); raise ``ValidationFailed`` / ``Conflict`` / ``TooSoon`` from services.
- ``permissions``: ``StaffModelPermissions`` (the default): staff only, model permissions per HTTP
  method, named permissions per action via ``required_permissions`` on the view.
- ``parsers`` (the default parsers): bodies nested deeper than 128 levels, and strings holding NUL
  or lone surrogates, are refused at their JSON path before any view runs; query parameters and
  URL values get the same check from ``config.middleware.UnsafeInputMiddleware``.
- ``pagination``: ``?page=`` / ``?page_size=``, bad values a 400 at their path (``config.pages``).
- ``requests``: ``body_object(request, allowed)`` (unknown keys refused), ``int_param``,
  ``flag_param``.
- ``metadata``: ``OPTIONS`` on every view, with or without a serializer.
- ``openapi``: the schema class: named components, ``Page(item)`` lists, error responses of every
  operation; ``docs``: Swagger UI and Redoc served from the project's static files.

OpenAPI: ``tests/api/test_real_urls.py`` runs ``spectacular --validate --fail-on-warn`` on the real
URLconf, and ``tests/api/test_schemathesis.py`` checks every answer against it, so every endpoint
must describe itself:
- give each view a ``serializer_class``, or ``@extend_schema(request={"application/json": SCHEMA},
  responses={200: SCHEMA})`` with schemas registered by ``openapi.component(name, schema)``;
  responses are always a status map (a bare dict would be read as one);
- a list answers ``responses={200: Page(ITEM)}``: it is then named ``*_list`` and documents
  ``page`` / ``page_size``;
- type path parameters (``<int:pk>``, ``lookup_value_regex = r"\\d+"``, or ``OpenApiParameter``)
  so none is guessed, and document query parameters with ``OpenApiParameter``.
"""
