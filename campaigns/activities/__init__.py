"""Activity kinds, one module each (design 5.4); importing the package registers them."""

from campaigns.activities import (  # noqa: F401
    alert,
    and_join,
    approval,
    build_audience,
    combine,
    end,
    fork,
    incremental_query,
    read_audience,
    test,
    wait,
)
