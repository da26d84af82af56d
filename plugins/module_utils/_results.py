# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How keys and failures appear in task results and diffs: metadata only, never a secret.

Private to the keywarden.iam collection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from ansible_collections.keywarden.iam.plugins.module_utils._errors import TaskError
from ansible_collections.keywarden.iam.plugins.module_utils._models import AccessKey, format_timestamp


def key_summary(key: AccessKey, now: datetime) -> dict:
    summary = {
        "access_key_id": key.access_key_id,
        "user_id": key.user_id,
        "status": key.status,
        "created": format_timestamp(key.created),
        "age_days": key.age_days(now),
        "description": key.description,
    }
    if key.last_used is not None:
        summary["last_used"] = format_timestamp(key.last_used)
    return summary


def keys_summary(keys: Iterable[AccessKey], now: datetime) -> list:
    return [key_summary(key, now) for key in sorted(keys, key=lambda k: (k.created, k.access_key_id))]


def failure_result(error: TaskError, **result) -> dict:
    """The task result for ``error``: the one place any failure becomes ``failed``/``msg``/``error``.

    ``result`` carries what the task had learnt or done before it failed; ``changed`` defaults to
    false and is kept when the caller says otherwise (a failure after a change).
    """
    failed = {"changed": False, **result, "failed": True, "msg": error.message}
    details = error.details()
    if details is not None:
        failed["error"] = details
    return failed
