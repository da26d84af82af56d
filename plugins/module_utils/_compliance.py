# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Access key compliance rules, and what enforcing them would do, as pure functions.

Private to the keywarden.iam collection: the interface may change without notice.

``evaluate`` takes users' keys, the cloud's clock and the thresholds, and returns findings.
``plan_remediation`` turns findings into one action per key (deactivate, delete or rotate) that
leaves nothing for the next evaluation to find. Neither makes a request.

Every threshold is in whole days (or keys) and a rule fires when the observed value is strictly
greater: with the default 90, a key is compliant for its first 90 whole days and flagged from
day 91. Ages are whole days (rounded down) by the IAM service's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from ansible_collections.keywarden.iam.plugins.module_utils._inventory import UserKeys
from ansible_collections.keywarden.iam.plugins.module_utils._models import AccessKey
from ansible_collections.keywarden.iam.plugins.module_utils._planner import KEY_LIMIT

# Thresholds beyond a century are mistakes, and would overflow date arithmetic.
MAX_THRESHOLD_DAYS = 36500

# Severities, lowest first; the names and numbers follow OCSF's severity_id.
SEVERITIES = ("informational", "low", "medium", "high", "critical")
SEVERITY_IDS = {"informational": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

KEY_AGE = "access-keys-rotated"
UNUSED = "access-keys-last-use-check"
SINGLE_ACTIVE = "iam-user-single-access-key"
INACTIVE = "access-keys-inactive-check"
ROOT = "iam-root-access-key-check"

DEACTIVATE = "deactivate"
DELETE = "delete"
ROTATE = "rotate"
AGE_ACTIONS = (DEACTIVATE, ROTATE)


@dataclass(frozen=True)
class Rule:
    rule_id: str
    title: str
    severity: str
    description: str
    unit: str


RULES: tuple[Rule, ...] = (
    Rule(ROOT, "No access key on the root identity", "critical",
         "The account's root identity holds an access key (active or not). Root keys cannot be limited by "
         "any policy: delete them and use IAM users.", "keys"),
    Rule(KEY_AGE, "Active access keys are rotated", "high",
         "An active key is older than the maximum age, in whole days since its creation.", "days"),
    Rule(UNUSED, "Active access keys are in use", "medium",
         "An active key has not been used for longer than allowed; a key never used counts from its "
         "creation.", "days"),
    Rule(SINGLE_ACTIVE, "One active access key per user", "medium",
         "The user holds more active keys than allowed. The key used most recently (else the newest) is "
         "kept; each other active key is a finding.", "keys"),
    Rule(INACTIVE, "Inactive access keys are deleted", "low",
         "An inactive key has lingered for longer than allowed. The API keeps no deactivation time, so "
         "this counts from the key's last use (a key that cannot be used is inactive at the latest since "
         "then), or from its creation if it was never used.", "days"),
)
RULES_BY_ID: dict[str, Rule] = {rule.rule_id: rule for rule in RULES}
RULE_IDS = tuple(rule.rule_id for rule in RULES)


@dataclass(frozen=True)
class Thresholds:
    max_key_age: int = 90
    max_unused_days: int = 45
    max_inactive_days: int = 30
    max_active_keys: int = 1

    def for_rule(self, rule_id: str) -> int:
        return {
            KEY_AGE: self.max_key_age,
            UNUSED: self.max_unused_days,
            INACTIVE: self.max_inactive_days,
            SINGLE_ACTIVE: self.max_active_keys,
            ROOT: 0,
        }[rule_id]

    def problems(self) -> list:
        """Why these thresholds cannot be used; empty when they can."""
        found = [f"{name} must be from 0 to {MAX_THRESHOLD_DAYS} days, not {value}"
                 for name, value in (("max_key_age", self.max_key_age), ("max_unused_days", self.max_unused_days),
                                     ("max_inactive_days", self.max_inactive_days))
                 if not 0 <= value <= MAX_THRESHOLD_DAYS]
        if not 1 <= self.max_active_keys <= KEY_LIMIT:
            found.append(f"max_active_keys must be from 1 to {KEY_LIMIT} (a user holds at most {KEY_LIMIT} keys), "
                         f"not {self.max_active_keys}")
        return found


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str
    user_id: str
    user_name: str | None
    access_key_id: str
    key_status: str
    observed: int
    threshold: int
    unit: str
    message: str

    @property
    def rule(self) -> Rule:
        return RULES_BY_ID[self.rule_id]

    def as_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "title": self.rule.title,
            "severity": self.severity,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "access_key_id": self.access_key_id,
            "key_status": self.key_status,
            "observed": self.observed,
            "threshold": self.threshold,
            "unit": self.unit,
            "message": self.message,
        }


def evaluate(
    users: Sequence[UserKeys],
    now: datetime,
    thresholds: Thresholds = Thresholds(),
    rule_ids: Iterable[str] = RULE_IDS,
) -> list:
    """Every finding of the enabled rules, most severe first, then by user, key and rule."""
    enabled = frozenset(rule_ids)
    findings: list[Finding] = []
    for user in users:
        for rule_id, key, observed in _violations(user, now, thresholds, enabled):
            findings.append(_finding(rule_id, user, key, observed, thresholds.for_rule(rule_id)))
    return sorted(findings, key=lambda f: (-SEVERITY_IDS[f.severity], f.user_name or f.user_id,
                                           f.access_key_id, RULE_IDS.index(f.rule_id)))


def _violations(user: UserKeys, now: datetime, thresholds: Thresholds, enabled: frozenset):
    """(rule id, key, observed value) for each rule a key of ``user`` breaks."""
    active = [key for key in user.keys if key.active]
    if ROOT in enabled and user.root:
        for key in user.keys:
            yield ROOT, key, len(user.keys)
    for key in active:
        if KEY_AGE in enabled and key.older_than(now, thresholds.max_key_age):
            yield KEY_AGE, key, key.age_days(now)
        idle = key.days_since_last_use(now)
        # Without last-use data (not fetched) the rule cannot be judged, so it stays silent.
        if UNUSED in enabled and idle is not None and idle > thresholds.max_unused_days:
            yield UNUSED, key, idle
    if SINGLE_ACTIVE in enabled and len(active) > thresholds.max_active_keys:
        for key in _extra_active_keys(active, thresholds.max_active_keys):
            yield SINGLE_ACTIVE, key, len(active)
    for key in user.keys:
        idle = key.days_since_last_use(now)
        if INACTIVE in enabled and not key.active and idle is not None and idle > thresholds.max_inactive_days:
            yield INACTIVE, key, idle


def _extra_active_keys(active: Sequence[AccessKey], allowed: int) -> list:
    """The active keys beyond the ``allowed`` ones kept: those used most recently, else the newest."""
    ranked = sorted(active, key=lambda key: (key.last_used or key.created, key.created, key.access_key_id),
                    reverse=True)
    return ranked[allowed:]


def _finding(rule_id: str, user: UserKeys, key: AccessKey, observed: int, threshold: int) -> Finding:
    rule = RULES_BY_ID[rule_id]
    return Finding(
        rule_id=rule_id, severity=rule.severity, user_id=user.user_id, user_name=user.user_name,
        access_key_id=key.access_key_id, key_status=key.status, observed=observed, threshold=threshold,
        unit=rule.unit, message=_message(rule_id, user, key, observed, threshold),
    )


def _message(rule_id: str, user: UserKeys, key: AccessKey, observed: int, threshold: int) -> str:
    whose = f"access key {key.access_key_id} of {user.label}"
    if rule_id == ROOT:
        return f"{whose} belongs to the account's root identity, which holds {observed} key(s)"
    if rule_id == KEY_AGE:
        return f"{whose} is {observed} days old, more than the {threshold} allowed"
    if rule_id == UNUSED:
        return f"{whose} has not been used for {observed} days, more than the {threshold} allowed"
    if rule_id == SINGLE_ACTIVE:
        return f"{whose} is one of {observed} active keys of the user, more than the {threshold} allowed"
    return f"{whose} is inactive and unused for {observed} days, more than the {threshold} allowed"


def at_or_above(findings: Iterable[Finding], severity: str) -> list:
    floor = SEVERITY_IDS[severity]
    return [finding for finding in findings if SEVERITY_IDS[finding.severity] >= floor]


def summarize(users: Sequence[UserKeys], findings: Sequence[Finding], failures: int = 0) -> dict:
    keys = [key for user in users for key in user.keys]
    flagged = {finding.access_key_id for finding in findings}
    return {
        "users": len(users),
        "keys": len(keys),
        "active_keys": sum(1 for key in keys if key.active),
        "inactive_keys": sum(1 for key in keys if not key.active),
        "compliant_keys": sum(1 for key in keys if key.access_key_id not in flagged),
        "noncompliant_keys": len(flagged),
        "findings": len(findings),
        "by_severity": {severity: sum(1 for f in findings if f.severity == severity) for severity in SEVERITIES},
        "by_rule": {rule_id: sum(1 for f in findings if f.rule_id == rule_id) for rule_id in RULE_IDS},
        "failures": failures,
    }


# ---- enforcement ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Remediation:
    """What enforcement does to one key so that the next evaluation finds nothing on it."""

    user_id: str
    user_name: str | None
    access_key_id: str
    action: str
    rule_ids: tuple[str, ...]
    reason: str
    # For ROTATE: what becomes of the replaced key (access_key's old_key option).
    old_key: str | None = None

    def as_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "user_name": self.user_name,
            "access_key_id": self.access_key_id,
            "action": self.action,
            "rule_ids": list(self.rule_ids),
            "reason": self.reason,
            "old_key": self.old_key,
        }


def plan_remediation(
    users: Sequence[UserKeys],
    findings: Sequence[Finding],
    now: datetime,
    thresholds: Thresholds = Thresholds(),
    *,
    rule_ids: Iterable[str] = RULE_IDS,
    age_action: str = DEACTIVATE,
    protected_key_ids: Iterable[str] = (),
) -> tuple[list, list]:
    """(actions, skipped): one action per key with findings, and the keys left alone, with why.

    - a root identity's key, or an inactive key that lingered: delete;
    - a key that is only too old, with ``age_action`` rotate: rotate it (a new key into the user's
      credentials file, this key retired);
    - any other finding: deactivate;
    - a deactivation (or a rotation's retirement) that would leave an inactive key the
      inactive-key rule flags at once, since its last use is already too long ago, deletes instead.

    ``protected_key_ids`` (the key the run signs with) are never touched.
    """
    enabled = frozenset(rule_ids)
    protected = frozenset(protected_key_ids)
    by_key: dict[str, list[Finding]] = {}
    for finding in findings:
        by_key.setdefault(finding.access_key_id, []).append(finding)
    actions, skipped = [], []
    for user in users:
        for key in user.keys:
            key_findings = by_key.get(key.access_key_id)
            if not key_findings:
                continue
            rules = tuple(rule_id for rule_id in RULE_IDS if any(f.rule_id == rule_id for f in key_findings))
            if key.access_key_id in protected:
                skipped.append({"user_id": user.user_id, "user_name": user.user_name,
                                "access_key_id": key.access_key_id, "rule_ids": list(rules),
                                "reason": "this run signs its requests with this key; change it from another identity"})
                continue
            actions.append(_remedy(user, key, rules, now, thresholds, enabled, age_action))
    return actions, skipped


def _remedy(user: UserKeys, key: AccessKey, rules: tuple[str, ...], now: datetime, thresholds: Thresholds,
            enabled: frozenset, age_action: str) -> Remediation:
    def make(action: str, reason: str, old_key: str | None = None) -> Remediation:
        return Remediation(user.user_id, user.user_name, key.access_key_id, action, rules, reason, old_key)

    idle = key.days_since_last_use(now)
    would_linger = INACTIVE in enabled and idle is not None and idle > thresholds.max_inactive_days
    if ROOT in rules:
        return make(DELETE, "the root identity must hold no access key")
    if INACTIVE in rules:
        return make(DELETE, f"inactive and unused for {idle} days")
    if rules == (KEY_AGE,) and age_action == ROTATE:
        return make(ROTATE, "too old: replaced by a new key", old_key=DELETE if would_linger else DEACTIVATE)
    if would_linger:
        return make(DELETE, f"unused for {idle} days: deactivating it would leave a lingering inactive key")
    return make(DEACTIVATE, "; ".join(_WHY_DEACTIVATE[rule_id] for rule_id in rules))


_WHY_DEACTIVATE = {
    KEY_AGE: "older than the maximum age",
    UNUSED: "unused for longer than allowed",
    SINGLE_ACTIVE: "more active keys than allowed",
}
