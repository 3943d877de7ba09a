"""Set operations over working sets for the targeting activities (design 4, 5.4), next to
``audiences.populations`` (whose contract they share: a ``Population`` row plus its ``pop_<id>``
table, written by ONE ``INSERT ... SELECT`` or one writable CTE filling several sets at once,
``ANALYZE``d, counted; keys never fetched into Python).

- ``tables``: creating and filling sets (the only SQL naming ``pop_<id>`` here, through
  ``Population.table_name``); columns are ``c_<n>``.
- ``paths``: column references of a population's rows (``target.ALIAS``, a bare added column, an
  attribute path such as ``email`` or ``store.city``) as SQL expressions, with the joins they need;
  ``reference_type`` checks one against a shape (campaign validation).
- ``dimension``: ``change_dimension`` (move along a link path).
- ``keyed``: ``combine`` on chosen keys (attributes or columns).
- ``dedup``: ``deduplicate``.
- ``split``: ordered subsets with rules and limits.
- ``enrich``: many-to-one attributes, aggregates, collected lines, file columns.
- ``files``: loading a CSV file into a set of rows keyed by line number (COPY, streamed).
- ``reconcile``: a file's rows (or a population) onto a schema by attribute pairs.
- ``writes``: insert/update/upsert/delete records from a population, through
  ``audiences.services.records``.

Every function is keyword-only, runs in the caller's transaction and raises
``config.errors.ValidationFailed`` for a reference that does not exist.
"""
