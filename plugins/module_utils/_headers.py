# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Case-insensitive header look-up. Private to the keywarden.iam collection."""

from __future__ import annotations

from typing import Mapping


def find_header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of header ``name`` in any letter case, or None.

    HTTP header names are case-insensitive, and the mappings we get (plain dicts we built,
    http.client messages) do not all agree on that.
    """
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
