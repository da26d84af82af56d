"""Print shell exports of a seed user's first key, for trying the modules against fakeiam by hand.

    eval "$(python tests/fakeiam/seed_key.py admin)"

sets HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK, which every keywarden.iam module falls back to.
The keys exist only in the local server's seed.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

SEED = Path(__file__).resolve().parent / "seeds" / "demo.json"


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "admin"
    seed = Path(sys.argv[2]) if len(sys.argv) > 2 else SEED
    for account in json.loads(seed.read_text())["accounts"]:
        for user in account["users"]:
            if user["name"] == name and user.get("keys"):
                key = user["keys"][0]
                print(f"export HUAWEICLOUD_SDK_AK={shlex.quote(key['access'])} "
                      f"HUAWEICLOUD_SDK_SK={shlex.quote(key['secret'])}")
                return
    sys.exit(f"no user named {name!r} with a key in {seed}")


if __name__ == "__main__":
    main()
