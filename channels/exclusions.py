"""The exclusion rules of staging (design 9): an ordered list of SQL predicates, each with its
reason id; a recipient gets the reason of the FIRST rule it matches and is counted under it.

A rule is ``Exclusion(reason, predicate, label)``; ``predicate(staging) -> (sql, params)`` is an
SQL boolean over one staged row, whose columns are ``key`` (the recipient's primary key),
``address`` (normalized; NULL when missing), ``dedupe`` (the duplicate key of the address) and
``reason`` (the reason found by the rules before, NULL while none did). A predicate may use a
window function (``duplicate_address`` does: the first recipient by key keeps the address among
those still included). ``staging`` is a ``Staging`` (the delivery, channel, category, keys' SQL
type): rules that read consent, suppressions or the ledger use it.

This issue's reasons: ``no_address``, ``invalid_address``, ``duplicate_address``. The engagement
issue adds ``opted_out``, ``suppressed``, ``frequency_cap``, ``quiet_hours`` and ``control`` with
``register(rule, before="duplicate_address")`` (or ``after``): one entry each.
"""

from dataclasses import dataclass

from channels import addresses


@dataclass(frozen=True)
class Staging:
    delivery: object
    channel: str
    category: str
    key_type: str


@dataclass(frozen=True)
class Exclusion:
    reason: str
    predicate: object  # Callable[[Staging], tuple[str, list]]
    label: str = ""


def _no_address(staging):
    return "address IS NULL", []


def _invalid_address(staging):
    return addresses.invalid_sql(staging.channel)


def _duplicate_address(staging):
    return (
        "reason IS NULL AND row_number() OVER "
        "(PARTITION BY reason IS NULL, dedupe ORDER BY key) > 1",
        [],
    )


RULES = [
    Exclusion("no_address", _no_address, "No address"),
    Exclusion("invalid_address", _invalid_address, "Invalid address"),
    Exclusion("duplicate_address", _duplicate_address, "Duplicate address in the delivery"),
]


def rules() -> list[Exclusion]:
    return list(RULES)


def register(rule: Exclusion, *, before: str | None = None, after: str | None = None) -> None:
    """Add a rule (at the end, or before / after the rule of that reason)."""
    reasons = [r.reason for r in RULES]
    if rule.reason in reasons:
        RULES[reasons.index(rule.reason)] = rule
        return
    if before in reasons:
        RULES.insert(reasons.index(before), rule)
    elif after in reasons:
        RULES.insert(reasons.index(after) + 1, rule)
    else:
        RULES.append(rule)


def label(reason: str) -> str:
    for rule in RULES:
        if rule.reason == reason:
            return rule.label or reason
    return reason.replace("_", " ")
