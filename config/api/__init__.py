"""The API base every endpoint under ``/api/`` builds on (design 5.0 and 6).

- ``errors``: the one error format (400 ``{"errors": [{"path", "message"}]}``, 409/403/404/405/429
  ``{"detail"}``, JSON 500); raise ``ValidationFailed`` / ``Conflict`` / ``TooSoon`` from services.
- ``permissions``: ``StaffModelPermissions`` (the default): staff only, model permissions per HTTP
  method, named permissions per action via ``required_permissions`` on the view.
- ``pagination``: ``?page=`` / ``?page_size=``.

OpenAPI: ``tests/api/test_real_urls.py`` runs ``spectacular --validate --fail-on-warn`` on the real
URLconf, so every endpoint must describe itself without warnings:
- give each view a ``serializer_class`` (or ``@extend_schema(request=..., responses=...)``); a plain
  ``APIView`` or ``ViewSet`` without one is an error ("unable to guess serializer");
- a list and a detail ``GET`` on the same path stem (``runs/`` and ``runs/{id}/``) collide as
  ``runs_retrieve`` unless the list says so: ``responses=RunSerializer(many=True)``, a viewset
  ``list`` action, or an explicit ``@extend_schema(operation_id="runs_list")``;
- type path parameters (``<int:pk>``, or ``OpenApiParameter``) so none is guessed.
"""
