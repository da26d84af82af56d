"""What the built tarball holds, and what the repository says about it (issue 14).

`make integration` builds the collection with ansible-galaxy (into .build/dist) and installs it from
that tarball; these tests read both. The tarball must carry COPYING, the GPL-3.0-or-later text that
every file header points to, and say the same license as galaxy.yml.
"""

from __future__ import annotations

import json
import re
import tarfile

import yaml

from tests.integration.conftest import INSTALLED, REPO

GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
TARBALL = REPO / ".build" / "dist" / f"keywarden-iam-{GALAXY['version']}.tar.gz"
GPL3_FIRST_LINES = ["GNU GENERAL PUBLIC LICENSE", "Version 3, 29 June 2007"]


def members(archive: tarfile.TarFile) -> dict:
    return {member.name.removeprefix("./"): member for member in archive.getmembers()}


def test_the_tarball_holds_copying_with_the_gpl3_text():
    assert TARBALL.is_file(), f"{TARBALL} is missing; run the tests with `make integration`"
    copying = (REPO / "COPYING").read_bytes()
    assert [line.strip() for line in copying.decode().splitlines()[:2]] == GPL3_FIRST_LINES
    with tarfile.open(TARBALL) as archive:
        found = members(archive)
        assert "COPYING" in found, "galaxy.yml's build_ignore keeps COPYING out of the tarball"
        assert archive.extractfile(found["COPYING"]).read() == copying
        manifest = json.load(archive.extractfile(found["MANIFEST.json"]))
        files = json.load(archive.extractfile(found["FILES.json"]))
    assert "COPYING" in {entry["name"] for entry in files["files"]}
    # One license, said alike in galaxy.yml and in what Galaxy reads from the tarball.
    assert GALAXY["license"] == ["GPL-3.0-or-later"] and not GALAXY.get("license_file")
    assert manifest["collection_info"]["license"] == GALAXY["license"]
    assert (INSTALLED / "ansible_collections" / "keywarden" / "iam" / "COPYING").read_bytes() == copying


def test_every_header_that_points_to_copying_is_in_a_collection_that_has_it():
    pointing = [path for path in (REPO / "plugins").rglob("*.py") if "see COPYING" in path.read_text()]
    assert pointing, "the headers no longer point to COPYING: update this test"
    assert (REPO / "COPYING").is_file()


def test_the_roles_readme_lists_every_role_and_calls_none_planned():
    readme = (REPO / "roles" / "README.md").read_text()
    roles = sorted(path.name for path in (REPO / "roles").iterdir() if (path / "tasks").is_dir())
    assert {"compliance", "fleet_credentials", "rotation"} <= set(roles)
    for role in roles:
        assert f"[`{role}`]({role}/README.md)" in readme
    assert "planned" not in readme


def test_the_readme_runs_python3():
    """Debian and its derivatives have no `python` command; the README's commands must run there."""
    readme = (REPO / "README.md").read_text()
    assert not re.search(r"(^|[\s\"'`(])python\s", readme), "the README runs `python`; Debian has `python3`"
