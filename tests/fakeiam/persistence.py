"""The optional --state-file: the state dump written atomically after every change."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def save(path: Path, state: dict[str, Any]) -> None:
    # Write beside the target and rename over it, so a reader (or a restart after a kill)
    # sees the old state or the new one, never half of one. No fsync: this guards against
    # the server process dying, not the machine losing power, and must stay fast.
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(state, stream, indent=1, sort_keys=True)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def load(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as stream:
        return json.load(stream)
