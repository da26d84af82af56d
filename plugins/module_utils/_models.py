# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the IAM API returns, as small immutable values. Private to the keywarden.iam collection.

Parsing is tolerant on purpose: responses may carry undocumented fields (ignored), the
timestamp fraction may be missing, and ``update`` leaves ``description`` out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

ACTIVE = "active"
INACTIVE = "inactive"

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(value: str) -> datetime:
    """An aware UTC datetime from the API's ``2020-01-08T06:25:19.014028Z`` and its variants."""
    match = _TIMESTAMP.match(value.strip())
    if not match:
        raise ValueError(f"unrecognised timestamp {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    zone_info = timezone.utc
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        zone_info = timezone(offset if zone[0] == "+" else -offset)
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=zone_info)
    return moment.astimezone(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AccessKey:
    """A permanent access key as listed or shown (never with its secret)."""

    access_key_id: str
    user_id: str
    status: str
    created: datetime
    description: str = ""
    last_used: datetime | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @classmethod
    def from_api(cls, item: Mapping[str, Any], *, user_id: str | None = None) -> AccessKey:
        last_use = item.get("last_use_time")
        return cls(
            access_key_id=str(item["access"]),
            user_id=str(item.get("user_id") or user_id or ""),
            status=str(item.get("status", ACTIVE)).lower(),
            created=parse_timestamp(str(item["create_time"])),
            description=str(item.get("description") or ""),
            last_used=parse_timestamp(str(last_use)) if last_use else None,
        )

    # Ages are whole days by the IAM service's clock, rounded down, everywhere: a rotation by
    # max_age and the compliance rule for key age agree on the same day.
    def age_days(self, now: datetime) -> int:
        return max(0, (now - self.created).days)

    def older_than(self, now: datetime, days: int) -> bool:
        """Whether the key has lived more than ``days`` whole days (day ``days + 1`` on)."""
        return self.age_days(now) > days

    def days_since_last_use(self, now: datetime) -> int | None:
        """Whole days since the key was last used (a key never used counts from its creation).

        None when the last use is unknown: only the show call reports it.
        """
        if self.last_used is None:
            return None
        return max(0, (now - self.last_used).days)


@dataclass(frozen=True)
class NewAccessKey:
    """A key just created: the only moment its secret exists outside the cloud."""

    key: AccessKey
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    domain_id: str
    enabled: bool = True

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> User:
        return cls(
            user_id=str(item["id"]),
            name=str(item.get("name", "")),
            domain_id=str(item.get("domain_id", "")),
            enabled=bool(item.get("enabled", True)),
        )


@dataclass(frozen=True)
class TemporaryKey:
    """A temporary AK/SK with its security token; all secrets kept out of repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    security_token: str = field(repr=False)
    expires_at: datetime | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> TemporaryKey:
        expires = item.get("expires_at")
        return cls(
            access_key_id=str(item["access"]),
            secret_access_key=str(item["secret"]),
            security_token=str(item["securitytoken"]),
            expires_at=parse_timestamp(str(expires)) if expires else None,
        )
