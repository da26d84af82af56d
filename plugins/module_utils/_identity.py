# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whose keys a task is about. Private to the keywarden.iam collection."""

from __future__ import annotations

from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient


def resolve_user_id(client: IamClient, *, user_id: str | None, user_name: str | None) -> str:
    """The id of the user named by the task, or of the calling user when it names none.

    A user id is taken as given (no extra request); a name costs one look-up, which needs the
    right to list users (Security Administrator or iam:users:listUsers).
    """
    if user_id:
        return user_id
    if user_name:
        return client.find_user(user_name).user_id
    return client.caller_user_id()
