"""Leak hunt beyond the test playbooks: the demo's own playbook, at -vvvv, with a log file and the
JSON results callback, rotating for real. Workdir.run searches all of it, and the temp
directories, for every secret the server ever issued (see conftest.py)."""

from __future__ import annotations

from tests.integration.conftest import ADMIN, REPO


ROTATE = "Rotate alice's key when it is older than 90 days, into her vaulted group_vars"


def test_demo_playbooks_leak_nothing_through_the_whole_story(workdir, iam):
    """The demo's steps (make room, refuse while the laptop is in use, retire it, rotate at the limit)."""
    creds = workdir.path / "alice.yml"
    laptop = next(key for key in iam.keys_of("alice") if key["description"] == "alice laptop")
    demo_vars = {"demo_iam_url": iam.url, "demo_ca_file": "", "demo_admin_ak": ADMIN["auth_ak"],
                 "demo_admin_sk": ADMIN["auth_sk"], "demo_laptop_ak": laptop["access"],
                 "demo_laptop_sk": laptop["secret"], "demo_credentials_file": str(creds)}

    def demo(name):
        return workdir.run(str(REPO / "demo" / name), **demo_vars)

    first = demo("rotate.yml")
    assert first.rc == 0, first.output
    assert first.result(ROTATE)["created"] and laptop["access"] not in first.result(ROTATE)["deleted"]
    iam.advance_clock(days=100)
    assert demo("use-laptop.yml").rc == 0
    refused = demo("rotate.yml")
    assert refused.rc != 0 and "none is safe to retire" in refused.result(ROTATE)["msg"]
    assert demo("retire-laptop.yml").rc == 0
    rotated = demo("rotate.yml")
    assert rotated.rc == 0, rotated.output
    assert rotated.result(ROTATE)["deleted"] == [laptop["access"]]
    assert rotated.result(ROTATE)["created"] and rotated.result(ROTATE)["deactivated"]
    assert demo("rotate.yml").result(ROTATE)["changed"] is False


def test_a_secret_read_from_clouds_yaml_is_masked_in_access_key_results(workdir, iam):
    # access_key runs on the controller as an action plugin, which nothing masks by itself; a
    # clouds.yaml entry's secret is no option value either. A user named like the secret makes it
    # appear in the result (the unknown user is reported by name): it must come out masked.
    clouds = workdir.path / "clouds.yaml"
    clouds.write_text(f"clouds:\n  local:\n    auth:\n      auth_url: {iam.url}\n      ak: {ADMIN['auth_ak']}\n"
                      f"      sk: {ADMIN['auth_sk']}\n")
    run = workdir.run(users=["bob", ADMIN["auth_sk"]], credentials_file=str(workdir.path / "{user_name}.yml"),
                      make_room="oldest", env={"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "local"})
    assert ADMIN["auth_sk"] not in run.output
    result = run.result()
    assert result["summary"]["changed"] == 1 and result["summary"]["failed"] == 1
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in repr(result)


def test_a_secret_read_from_clouds_yaml_is_masked_in_temporary_access_key_results(workdir, iam):
    # The same for temporary_access_key, with the password of a clouds.yaml entry: a credentials
    # file in a directory named like it, which does not exist, is refused with its path.
    password = "Admin-Demo-Passw0rd"
    clouds = workdir.path / "clouds.yaml"
    clouds.write_text(f"clouds:\n  local:\n    auth:\n      auth_url: {iam.url}/v3\n      username: admin\n"
                      f"      password: {password}\n      user_domain_name: keywarden-demo\n")
    run = workdir.run("temporary_access_key.yml", credentials_file=str(workdir.path / password / "t.yml"),
                      env={"OS_CLIENT_CONFIG_FILE": str(clouds), "OS_CLOUD": "local"})
    assert run.rc != 0 and password not in run.output
    assert "/********/t.yml" in run.result("temporary_access_key")["msg"]
