# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.keywarden.iam.plugins.module_utils._credential_formats import (
    FORMATS,
    CredentialFormatError,
    Credentials,
    check_options,
    format_fields,
    parse,
    render,
)

SECRET = "s3cr3t/SK+with=chars"
TOKEN = "gQ1jbi1ub3J0aC00-token"

# --- strategies ----------------------------------------------------------------------------

# Every printable character: letters, marks, numbers, punctuation, symbols and the space.
# Mixed with the characters that formats treat specially, so hypothesis tries them often.
_PRINTABLE = st.characters(categories=("L", "M", "N", "P", "S")) | st.sampled_from(list(" \"'=#$`\\%;:!*?[]{}&|<>~,-"))


def _text(alphabet: st.SearchStrategy[str] = _PRINTABLE) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=40)


def _ini_safe(value: str) -> bool:
    return value == value.strip() and value[0] not in "\"'`"


# What each format can hold (see the module docstring); render must refuse the rest.
_VALUES = {
    "csv": _text(),
    "yaml": _text(),
    "env": _text(),
    "sdk_profile": _text(_PRINTABLE.filter(lambda char: char not in "%#;")).filter(_ini_safe),
    "obsutil": _text().filter(lambda value: value == value.strip()),
}


@st.composite
def credentials_for(draw: st.DrawFn, fmt: str) -> Credentials:
    value = _VALUES[fmt]
    optional = st.none() | value
    return Credentials(
        access_key_id=draw(value),
        secret_access_key=draw(value),
        user_id=draw(optional),
        user_name=draw(optional),
        security_token=None if fmt == "csv" else draw(optional),
        expires_at=draw(optional),
        domain_id=draw(optional),
        iam_endpoint=draw(optional),
        obs_endpoint=draw(optional),
    )


def held(fmt: str, creds: Credentials) -> Credentials:
    """What parse(render(creds)) must give: the fields the format keeps, nothing else."""
    if fmt == "csv":
        return Credentials(creds.access_key_id, creds.secret_access_key, user_name=creds.user_name or creds.user_id)
    kept = format_fields(fmt)
    return dataclasses.replace(creds, **{item.name: None for item in dataclasses.fields(creds) if item.name not in kept})


# --- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_render_then_parse_round_trips(fmt: str, data: st.DataObject) -> None:
    creds = data.draw(credentials_for(fmt))
    assert parse(fmt, render(fmt, creds)) == held(fmt, creds)


@given(creds=credentials_for("yaml"), prefix=st.sampled_from(["", "iam_", "prod_", "_x9_"]))
@settings(max_examples=100, deadline=None)
def test_yaml_round_trips_with_any_valid_prefix(creds: Credentials, prefix: str) -> None:
    assert parse("yaml", render("yaml", creds, vars_prefix=prefix), vars_prefix=prefix) == creds


@given(creds=credentials_for("yaml"))
@settings(max_examples=300, deadline=None)
def test_yaml_reads_the_same_in_pyyaml(creds: Credentials) -> None:
    # include_vars parses with PyYAML: it must see exactly the values we wrote.
    expected = {
        "iam_access_key": creds.access_key_id,
        "iam_secret_key": creds.secret_access_key,
        "iam_user_id": creds.user_id,
        "iam_user_name": creds.user_name,
        "iam_security_token": creds.security_token,
        "iam_expires_at": creds.expires_at,
        "iam_domain_id": creds.domain_id,
        "iam_endpoint": creds.iam_endpoint,
        "iam_obs_endpoint": creds.obs_endpoint,
    }
    assert yaml.safe_load(render("yaml", creds)) == {key: value for key, value in expected.items() if value is not None}


def test_yaml_reads_the_same_in_ansibles_loader() -> None:
    from ansible.parsing.dataloader import DataLoader

    creds = Credentials("AK", "q\"uo'te \\ #x: y", security_token="ü-ß 💡", user_name="- not a list")
    loaded = DataLoader().load(render("yaml", creds))
    assert loaded == {
        "iam_access_key": "AK",
        "iam_secret_key": "q\"uo'te \\ #x: y",
        "iam_security_token": "ü-ß 💡",
        "iam_user_name": "- not a list",
    }


# The env format must mean the same to a POSIX shell and to systemd's EnvironmentFile=.

_BASH = shutil.which("bash")


@pytest.mark.skipif(_BASH is None, reason="needs bash")
@given(creds=credentials_for("env"))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_env_reads_the_same_in_bash(creds: Credentials, tmp_path_factory: pytest.TempPathFactory) -> None:
    env_file = tmp_path_factory.mktemp("env") / "credentials.env"
    env_file.write_text(render("env", creds), encoding="utf-8")
    names = ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_DOMAIN_ID", "HUAWEICLOUD_SDK_IAM_ENDPOINT")
    script = 'set -a; . "$1"; for n in ' + " ".join(names) + '; do printf "%s=%s\\0" "$n" "${!n-<unset>}"; done'
    result = subprocess.run(
        [_BASH, "--norc", "--noprofile", "-c", script, "bash", str(env_file)],
        capture_output=True, check=True, env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
    )
    seen = dict(item.split("=", 1) for item in result.stdout.decode("utf-8").split("\0") if item)
    assert seen == {
        "HUAWEICLOUD_SDK_AK": creds.access_key_id,
        "HUAWEICLOUD_SDK_SK": creds.secret_access_key,
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": creds.security_token or "<unset>",
        "HUAWEICLOUD_SDK_DOMAIN_ID": creds.domain_id or "<unset>",
        "HUAWEICLOUD_SDK_IAM_ENDPOINT": creds.iam_endpoint or "<unset>",
    }


def systemd_environment_file(text: str) -> dict[str, str]:  # noqa: PLR0915 - one state machine, kept as in C
    """A port of systemd's parse_env_file_internal() (src/basic/env-file.c), values only."""
    whitespace, newline, need_escape = " \t\n\r", "\n\r", '"\\`$'
    result: dict[str, str] = {}
    state, key, value, trailing = "PRE_KEY", "", "", None

    def push() -> None:
        result[key.rstrip(whitespace)] = value

    for char in text:
        if state == "PRE_KEY":
            if char in "#;":
                state = "COMMENT"
            elif char not in whitespace:
                state, key = "KEY", char
        elif state == "KEY":
            if char in newline:
                state, key = "PRE_KEY", ""
            elif char == "=":
                state, value, trailing = "PRE_VALUE", "", None
            else:
                key += char
        elif state == "PRE_VALUE":
            if char in newline:
                push()
                state, key = "PRE_KEY", ""
            elif char in "'\"\\":
                state = {"'": "SINGLE", '"': "DOUBLE", "\\": "VALUE_ESCAPE"}[char]
            elif char not in whitespace:
                state, value = "VALUE", value + char
        elif state == "VALUE":
            if char in newline:
                value = value[:trailing] if trailing is not None else value
                push()
                state, key = "PRE_KEY", ""
            elif char == "\\":
                state, trailing = "VALUE_ESCAPE", None
            else:
                if char not in whitespace:
                    trailing = None
                elif trailing is None:
                    trailing = len(value)
                value += char
        elif state == "VALUE_ESCAPE":
            state = "VALUE"
            if char not in newline:
                value += char
        elif state == "SINGLE":
            if char == "'":
                state = "PRE_VALUE"
            else:
                value += char
        elif state == "DOUBLE":
            if char == '"':
                state = "PRE_VALUE"
            elif char == "\\":
                state = "DOUBLE_ESCAPE"
            else:
                value += char
        elif state == "DOUBLE_ESCAPE":
            state = "DOUBLE"
            if char in need_escape:
                value += char
            elif char != "\n":
                value += "\\" + char
        elif state == "COMMENT" and char in newline:
            state = "PRE_KEY"
    return result


def test_systemd_port_reads_systemds_own_examples() -> None:
    # From systemd.exec(5) on EnvironmentFile=, checking the port before trusting it.
    text = 'A=a b\nB="q \\" \\$ \\x"\nC=\'single \\ $x\'\n# comment\n; comment\nD= spaced  \n'
    assert systemd_environment_file(text) == {"A": "a b", "B": 'q " $ \\x', "C": "single \\ $x", "D": "spaced"}


@given(creds=credentials_for("env"))
@settings(max_examples=300, deadline=None)
def test_env_reads_the_same_in_systemd(creds: Credentials) -> None:
    seen = systemd_environment_file(render("env", creds))
    expected = {
        "HUAWEICLOUD_SDK_AK": creds.access_key_id,
        "HUAWEICLOUD_SDK_SK": creds.secret_access_key,
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": creds.security_token,
        "HUAWEICLOUD_SDK_DOMAIN_ID": creds.domain_id,
        "HUAWEICLOUD_SDK_IAM_ENDPOINT": creds.iam_endpoint,
    }
    assert seen == {key: value for key, value in expected.items() if value is not None}


@given(creds=credentials_for("sdk_profile"))
@settings(max_examples=100, deadline=None)
def test_sdk_profile_reads_the_same_in_huaweicloudsdkcore(creds: Credentials, tmp_path_factory: pytest.TempPathFactory) -> None:
    provider = pytest.importorskip("huaweicloudsdkcore.auth.provider")
    profile = tmp_path_factory.mktemp("profile") / "credentials"
    profile.write_text(render("sdk_profile", creds), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", str(profile))
        seen = provider.ProfileCredentialProvider.get_global_credential_profile_provider().get_credentials()
        basic = provider.ProfileCredentialProvider.get_basic_credential_profile_provider().get_credentials()
    assert (seen.ak, seen.sk, seen.security_token, seen.domain_id) == (
        creds.access_key_id, creds.secret_access_key, creds.security_token, creds.domain_id
    )
    assert seen.iam_endpoint == (creds.iam_endpoint or seen.iam_endpoint)  # the SDK fills in a default
    assert (basic.ak, basic.sk) == (creds.access_key_id, creds.secret_access_key)


# --- exact output --------------------------------------------------------------------------

FULL = Credentials(
    "AKEXAMPLE",
    SECRET,
    user_id="0a1b2c",
    user_name="alice",
    security_token=TOKEN,
    expires_at="2026-05-01T10:00:00.000000Z",
    domain_id="d0d0",
    iam_endpoint="https://iam.eu-de.otc.t-systems.com",
    obs_endpoint="https://obs.eu-de.otc.t-systems.com",
)


def test_csv_is_the_console_download() -> None:
    creds = Credentials("AKEXAMPLE", SECRET, user_id="0a1b2c", user_name="alice")
    assert render("csv", creds) == f"User Name,Access Key Id,Secret Access Key\r\nalice,AKEXAMPLE,{SECRET}\r\n"


def test_csv_user_name_falls_back_to_the_user_id() -> None:
    assert render("csv", Credentials("AK", "SK", user_id="0a1b2c")).splitlines()[1] == "0a1b2c,AK,SK"


def test_yaml_layout() -> None:
    assert render("yaml", FULL, vars_prefix="prod_") == (
        "---\n"
        'prod_access_key: "AKEXAMPLE"\n'
        f'prod_secret_key: "{SECRET}"\n'
        'prod_user_id: "0a1b2c"\n'
        'prod_user_name: "alice"\n'
        f'prod_security_token: "{TOKEN}"\n'
        'prod_expires_at: "2026-05-01T10:00:00.000000Z"\n'
        'prod_domain_id: "d0d0"\n'
        'prod_endpoint: "https://iam.eu-de.otc.t-systems.com"\n'
        'prod_obs_endpoint: "https://obs.eu-de.otc.t-systems.com"\n'
    )


def test_env_quotes_only_when_needed() -> None:
    creds = Credentials("AK", 'a b"$`\\', security_token="t0k+/=", domain_id="d0")
    assert render("env", creds) == (
        "HUAWEICLOUD_SDK_AK=AK\n"
        'HUAWEICLOUD_SDK_SK="a b\\"\\$\\`\\\\"\n'
        "HUAWEICLOUD_SDK_SECURITY_TOKEN=t0k+/=\n"
        "HUAWEICLOUD_SDK_DOMAIN_ID=d0\n"
    )


def test_env_layout() -> None:
    assert render("env", FULL) == (
        f"# expires_at: {FULL.expires_at}\n"
        "# user_id: 0a1b2c\n"
        "# user_name: alice\n"
        "HUAWEICLOUD_SDK_AK=AKEXAMPLE\n"
        f"HUAWEICLOUD_SDK_SK={SECRET}\n"
        f"HUAWEICLOUD_SDK_SECURITY_TOKEN={TOKEN}\n"
        "HUAWEICLOUD_SDK_DOMAIN_ID=d0d0\n"
        "HUAWEICLOUD_SDK_IAM_ENDPOINT=https://iam.eu-de.otc.t-systems.com\n"
    )


def test_sdk_profile_layout() -> None:
    assert render("sdk_profile", FULL) == (
        f"# expires_at: {FULL.expires_at}\n"
        "# user_id: 0a1b2c\n"
        "# user_name: alice\n"
        "[basic]\n"
        "ak = AKEXAMPLE\n"
        f"sk = {SECRET}\n"
        f"security_token = {TOKEN}\n"
        "iam_endpoint = https://iam.eu-de.otc.t-systems.com\n"
        "\n"
        "[global]\n"
        "ak = AKEXAMPLE\n"
        f"sk = {SECRET}\n"
        f"security_token = {TOKEN}\n"
        "domain_id = d0d0\n"
        "iam_endpoint = https://iam.eu-de.otc.t-systems.com\n"
    )


def test_obsutil_layout() -> None:
    assert render("obsutil", FULL) == (
        f"# expires_at: {FULL.expires_at}\n"
        "# user_id: 0a1b2c\n"
        "# user_name: alice\n"
        "# domain_id: d0d0\n"
        f"ak=AKEXAMPLE\nsk={SECRET}\ntoken={TOKEN}\nendpoint=https://obs.eu-de.otc.t-systems.com\n"
    )


# --- ownership comments --------------------------------------------------------------------
# env, sdk_profile and obsutil keep what they have no place for in "# <field>: <value>" lines.

COMMENTED = {
    "env": ("expires_at", "user_id", "user_name"),
    "sdk_profile": ("expires_at", "user_id", "user_name"),
    "obsutil": ("expires_at", "user_id", "user_name", "domain_id"),
}


def test_format_fields() -> None:
    everything = {item.name for item in dataclasses.fields(Credentials)}
    assert format_fields("csv") == {"access_key_id", "secret_access_key", "user_name"}
    assert format_fields("yaml") == everything
    assert format_fields("env") == everything - {"obs_endpoint"}
    assert format_fields("sdk_profile") == everything - {"obs_endpoint"}
    assert format_fields("obsutil") == everything - {"iam_endpoint"}


@pytest.mark.parametrize(("fmt", "comments"), COMMENTED.items())
def test_comments_come_first_in_a_fixed_order(fmt: str, comments: tuple[str, ...]) -> None:
    lines = render(fmt, FULL).splitlines()
    assert lines[: len(comments)] == [f"# {name}: {getattr(FULL, name)}" for name in comments]
    assert not lines[len(comments)].startswith("#")
    assert parse(fmt, render(fmt, FULL)) == held(fmt, FULL)


@pytest.mark.parametrize("fmt", COMMENTED)
def test_only_the_comments_of_set_fields_are_written(fmt: str) -> None:
    text = render(fmt, Credentials("AK", "SK", user_name="alice"))
    assert [line for line in text.splitlines() if line.startswith("#")] == ["# user_name: alice"]


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("env", "# expires_at: 2026-05-01T10:00:00Z\nHUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=SK\n"),
        (
            "sdk_profile",
            "# expires_at: 2026-05-01T10:00:00Z\n[basic]\nak = AK\nsk = SK\n\n[global]\nak = AK\nsk = SK\n",
        ),
        ("obsutil", "# expires_at: 2026-05-01T10:00:00Z\nak=AK\nsk=SK\n"),
    ],
)
def test_files_with_only_the_expiry_comment_still_read(fmt: str, text: str) -> None:
    # As this collection wrote them before it kept the owner too.
    assert parse(fmt, text) == Credentials("AK", "SK", expires_at="2026-05-01T10:00:00Z")


def test_comments_are_ours_only_as_spelled() -> None:
    text = (
        "#user_id: a\n# user_id:b\n  # user_id: c\n# User_Name: d\n"
        "HUAWEICLOUD_SDK_AK=AK\n# user_name: alice # and more\nHUAWEICLOUD_SDK_SK=SK\n"
    )
    assert parse("env", text) == Credentials("AK", "SK", user_name="alice # and more")


@pytest.mark.parametrize("fmt", COMMENTED)
def test_a_comment_set_twice_is_an_error(fmt: str) -> None:
    text = render(fmt, Credentials("AK", "SK", user_name=SECRET)) + f"# user_name: {SECRET}x\n"
    with pytest.raises(CredentialFormatError, match=r"user_name.* twice \(again on line \d+\)") as caught:
        parse(fmt, text)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(("fmt", "name"), [(fmt, name) for fmt, names in COMMENTED.items() for name in names])
def test_comment_values_must_be_printable(fmt: str, name: str) -> None:
    with pytest.raises(CredentialFormatError, match="contains a line break") as caught:
        render(fmt, Credentials("AK", "SK", **{name: f"{SECRET}\n# injected"}))
    assert SECRET not in str(caught.value)


# --- what users write by hand --------------------------------------------------------------


def test_csv_reads_the_terraform_variant() -> None:
    text = "\ufeffUser ID,Access Key ID,Secret Access Key\n0a1b2c,AK,SK\n"
    assert parse("csv", text) == Credentials("AK", "SK", user_id="0a1b2c")


def test_yaml_reads_hand_written_vars() -> None:
    text = (
        "# my keys\n"
        "---\n"
        "other_var: 42\n"
        "iam_access_key: AKPLAIN   # comment\n"
        "iam_secret_key: 'it''s # not a comment'\n"
        "iam_security_token: ~\n"
        "iam_user_name:\n"
        'iam_domain_id: "d\\u00fc" # comment\n'
    )
    assert parse("yaml", text) == Credentials("AKPLAIN", "it's # not a comment", domain_id="dü")


def test_env_reads_hand_written_files() -> None:
    text = "# keys\nexport HUAWEICLOUD_SDK_AK='AK x'\n\nHUAWEICLOUD_SDK_SK=\"a\\nb\"\nHUAWEICLOUD_SDK_REGION=eu-de\n"
    assert parse("env", text) == Credentials("AK x", "a\\nb")  # in sh and systemd alike, \n stays two characters


def test_sdk_profile_reads_a_basic_only_profile() -> None:
    text = "[basic]\nak = AK\nsk = SK\nproject_id = p1\n"
    assert parse("sdk_profile", text) == Credentials("AK", "SK")


def test_sdk_profile_reads_percent_the_way_the_sdk_does() -> None:
    assert parse("sdk_profile", "[global]\nak = AK\nsk = a%%b\n") == Credentials("AK", "a%b")


def test_obsutil_ignores_its_other_settings() -> None:
    text = "endpoint=https://obs.example\nak=AK\nsk=SK\ntoken=\nakCrypto=\nsdkLogBackups=10\n"
    assert parse("obsutil", text) == Credentials("AK", "SK", obs_endpoint="https://obs.example")


# --- no key, half a key, malformed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("csv", ""),
        ("csv", "User Name,Access Key Id,Secret Access Key\r\n"),
        ("yaml", ""),
        ("yaml", "---\n# nothing yet\nother: 1\n"),
        ("env", "HUAWEICLOUD_SDK_REGION=eu-de\n"),
        ("sdk_profile", ""),
        ("sdk_profile", "[basic]\nproject_id = p\n"),
        ("obsutil", "endpoint=https://obs.example\nak=\nsk=\n"),
    ],
)
def test_parse_returns_none_without_a_key(fmt: str, text: str) -> None:
    assert parse(fmt, text) is None


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        ("yaml", f'iam_secret_key: "{SECRET}"\n', "hold iam_secret_key but no iam_access_key"),
        ("env", "HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=\n", "hold HUAWEICLOUD_SDK_AK but no HUAWEICLOUD_SDK_SK"),
        ("obsutil", f"sk={SECRET}\n", "hold sk but no ak"),
        ("sdk_profile", f"[global]\nsk = {SECRET}\n", "hold [global] sk but no [global] ak"),
    ],
)
def test_half_a_key_is_an_error(fmt: str, text: str, message: str) -> None:
    with pytest.raises(CredentialFormatError, match=re.escape(message)) as caught:
        parse(fmt, text)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("csv", f"Name,Key\nalice,{SECRET}\n"),
        ("csv", f"User Name,Access Key Id,Secret Access Key\nalice,AK,{SECRET}\nbob,AK2,{SECRET}\n"),
        ("csv", f"User Name,Access Key Id,Secret Access Key\nalice,AK,{SECRET},extra\n"),
        ("csv", f"Access Key Id,Access Key Id,Secret Access Key\nAK,AK,{SECRET}\n"),
        ("yaml", f"iam_access_key: AK\n  iam_secret_key: {SECRET}\n"),
        ("yaml", f"iam_access_key: AK\niam_secret_key: [{SECRET}]\n"),
        ("yaml", f"iam_access_key: AK\niam_secret_key: '{SECRET}\n"),
        ("yaml", f'iam_access_key: AK\niam_secret_key: "{SECRET}\\x41"\n'),
        ("yaml", f'iam_access_key: AK\niam_secret_key: "{SECRET}" trailing\n'),
        ("yaml", f"iam_access_key: AK\niam_secret_key: {SECRET}: x\n"),
        ("yaml", f"iam_access_key: AK\niam_access_key: {SECRET}\n"),
        ("yaml", f"---\niam_access_key: AK\n---\niam_secret_key: {SECRET}\n"),
        ("env", f"HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK={SECRET} x\n"),
        ("env", f"HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=\"{SECRET}$HOME\"\n"),
        ("env", f"HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=\"{SECRET}\" # c\n"),
        ("env", f"HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK='{SECRET}\n"),
        ("env", f"HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=\"{SECRET}\n"),
        ("env", f"HUAWEICLOUD_SDK_AK=AK\n{SECRET}\n"),
        ("env", f"HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_AK={SECRET}\n"),
        ("sdk_profile", f"ak = AK\nsk = {SECRET}\n"),
        ("sdk_profile", f"[global]\nak = AK\nsk = {SECRET}\nsk = {SECRET}\n"),
        ("sdk_profile", f"[global]\nak = AK\n{SECRET}\n"),
        ("sdk_profile", f"[global]\nak = AK\nsk = {SECRET}%\n"),
        ("sdk_profile", f"[global]\nak = AK\nsk = {SECRET}\n[basic]\nak = AK\nsk = other\n"),
        ("obsutil", f"ak=AK\n{SECRET}\n"),
        ("obsutil", f"ak=AK\nsk={SECRET}\nsk={SECRET}\n"),
    ],
)
def test_malformed_text_is_an_error_that_does_not_quote_it(fmt: str, text: str) -> None:
    with pytest.raises(CredentialFormatError) as caught:
        parse(fmt, text)
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)
    assert caught.value.__cause__ is None or SECRET not in str(caught.value.__cause__)
    assert caught.value.__suppress_context__ or caught.value.__context__ is None


# --- what a format cannot hold -------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("bad", ["line\nbreak", "carriage\rreturn", "tab\there", "nul\x00", "ls\u2028sep", "bom\ufeff"])
def test_render_refuses_non_printable_values(fmt: str, bad: str) -> None:
    with pytest.raises(CredentialFormatError, match="secret access key contains a line break") as caught:
        render(fmt, Credentials("AK", bad))
    assert bad not in str(caught.value)


def test_csv_cannot_hold_a_temporary_key() -> None:
    with pytest.raises(CredentialFormatError, match=r"csv format cannot hold a security token.*yaml, env, sdk_profile, obsutil"):
        render("csv", Credentials("AK", "SK", security_token=TOKEN))


@pytest.mark.parametrize("bad", ["a%b", "a#b", "a;b", '"quoted"', "'quoted'", " lead", "trail "])
def test_sdk_profile_refuses_values_the_ini_readers_would_change(bad: str) -> None:
    with pytest.raises(CredentialFormatError, match="sdk_profile format cannot hold the secret access key") as caught:
        render("sdk_profile", Credentials("AK", bad))
    assert bad not in str(caught.value)


@pytest.mark.parametrize("bad", [" lead", "trail "])
def test_obsutil_refuses_values_it_would_trim(bad: str) -> None:
    with pytest.raises(CredentialFormatError, match="obsutil format cannot hold the security token"):
        render("obsutil", Credentials("AK", "SK", security_token=bad))


@pytest.mark.parametrize("prefix", ["9x_", "a-b_", "a b", "ä_"])
def test_bad_vars_prefix(prefix: str) -> None:
    with pytest.raises(CredentialFormatError, match="vars_prefix"):
        check_options("yaml", vars_prefix=prefix)
    with pytest.raises(CredentialFormatError, match="vars_prefix"):
        render("yaml", Credentials("AK", "SK"), vars_prefix=prefix)


def test_unknown_format() -> None:
    with pytest.raises(CredentialFormatError, match="unknown credential file format 'json'; choose one of: csv, yaml"):
        check_options("json")


# --- merging into an existing file ---------------------------------------------------------
# render(..., into=text) changes only our lines; every other byte of the file stays.

# A permanent key, as a rotation writes it: no token, no expiry, endpoints unknown.
ROTATED = Credentials("AKROTATED", "rotated-" + SECRET, user_id="0a1b2c", user_name="alice", domain_id="d0d0")


def kept_settings(creds: Credentials, **settings: str) -> Credentials:
    """What reading back a merge of ``creds`` gives when the file had ``settings`` and creds none."""
    return dataclasses.replace(creds, **settings)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("into", [None, "", " \n\t\n"])
def test_without_a_file_to_merge_into_render_writes_anew(fmt: str, into: str | None) -> None:
    assert render(fmt, FULL if fmt != "csv" else ROTATED, into=into) == render(fmt, FULL if fmt != "csv" else ROTATED)


def test_csv_ignores_into() -> None:
    assert render("csv", ROTATED, into="User Name,Access Key Id,Secret Access Key\r\nbob,AKOLD,old\r\n# x\r\n") == (
        render("csv", ROTATED)
    )


def test_into_must_be_text() -> None:
    with pytest.raises(TypeError, match="into must be a string"):
        render("env", ROTATED, into=b"HUAWEICLOUD_SDK_AK=AK\n")  # type: ignore[arg-type]


# yaml ----------------------------------------------------------------------------------------

YAML_FILE = """\
# Vars for the web tier
---
db_password: "hunter2"   # not ours
app-name.with dots: web.example
"quoted key": x
defaults: &defaults
  timeout: 30
  retries:
    - 1
    - 2
service:
  <<: *defaults
  name: api
hosts:
- a.example
-
  b.example
motd: |+
  Welcome, iam_access_key: not a key

banner: >
  folded
  # not a comment in here
  text
flow: {a: 1, b: [x, y]}
iam_access_key: AKOLD       # the key
iam_secret_key: 'old-secret'
iam_security_token: "old-token"
iam_expires_at: "2026-01-01T00:00:00Z"
iam_endpoint: https://iam.example   # set by hand
alias: *defaults
? complex key
: complex value
iam_access_key_backup: AKBACKUP
...
# end of the vars
"""


def test_yaml_merge_changes_only_our_lines() -> None:
    merged = render("yaml", ROTATED, into=YAML_FILE)
    assert merged == YAML_FILE.replace(
        "iam_access_key: AKOLD       # the key\n"
        "iam_secret_key: 'old-secret'\n"
        'iam_security_token: "old-token"\n'
        'iam_expires_at: "2026-01-01T00:00:00Z"\n'
        "iam_endpoint: https://iam.example   # set by hand\n",
        'iam_access_key: "AKROTATED"       # the key\n'
        f'iam_secret_key: "rotated-{SECRET}"\n'
        "iam_endpoint: https://iam.example   # set by hand\n"
        'iam_user_id: "0a1b2c"\n'
        'iam_user_name: "alice"\n'
        'iam_domain_id: "d0d0"\n',
    )
    assert parse("yaml", merged) == kept_settings(ROTATED, iam_endpoint="https://iam.example")
    # What include_vars sees: the other variables exactly as before, ours as written.
    before, after = yaml.safe_load(YAML_FILE), yaml.safe_load(merged)
    ours = {"iam_access_key", "iam_secret_key", "iam_security_token", "iam_expires_at", "iam_user_id", "iam_user_name",
            "iam_domain_id"}
    assert {key: value for key, value in after.items() if key not in ours} == {
        key: value for key, value in before.items() if key not in ours
    }
    assert after["iam_access_key"] == "AKROTATED" and after["iam_domain_id"] == "d0d0"


def test_yaml_merge_replaces_a_setting_it_is_given() -> None:
    merged = render("yaml", kept_settings(ROTATED, iam_endpoint="https://iam.new"), into=YAML_FILE)
    assert 'iam_endpoint: "https://iam.new"   # set by hand\n' in merged
    assert "https://iam.example" not in merged


def test_yaml_merge_adds_ours_at_the_end_of_the_document() -> None:
    text = "---\nother: 1\nnested:\n  deep: [1, 2]\n...\n# after the end\n"
    assert render("yaml", Credentials("AK", "SK"), into=text) == (
        '---\nother: 1\nnested:\n  deep: [1, 2]\niam_access_key: "AK"\niam_secret_key: "SK"\n...\n# after the end\n'
    )
    block = "script: |+\n  echo hi\n\n"  # kept trailing blank lines belong to the value
    merged = render("yaml", Credentials("AK", "SK"), into=block)
    assert merged == block + 'iam_access_key: "AK"\niam_secret_key: "SK"\n'
    assert yaml.safe_load(merged)["script"] == "echo hi\n\n"


def test_yaml_merge_keeps_quoted_keys_and_adds_a_final_newline() -> None:
    text = "\"iam_access_key\": AKOLD\n'iam_secret_key' : old\niam_user_name:\niam_user_id: ~ # unknown\nz: 1"
    assert render("yaml", ROTATED, into=text) == (
        "\"iam_access_key\": \"AKROTATED\"\n"
        f"'iam_secret_key' : \"rotated-{SECRET}\"\n"
        'iam_user_name: "alice"\n'
        'iam_user_id: "0a1b2c" # unknown\n'
        'iam_domain_id: "d0d0"\n'
        "z: 1\n"
    )


def test_yaml_merge_keeps_a_byte_order_mark_and_crlf() -> None:
    text = "\ufeff---\r\nother: 1\r\niam_access_key: AKOLD\r\niam_secret_key: old\r\n"
    assert render("yaml", Credentials("AK", "SK", user_name="bob"), into=text) == (
        '\ufeff---\r\nother: 1\r\niam_access_key: "AK"\r\niam_secret_key: "SK"\r\niam_user_name: "bob"\r\n'
    )


def test_yaml_merge_uses_the_vars_prefix() -> None:
    text = "iam_access_key: not-ours\nprod_access_key: AKOLD\nprod_secret_key: old\n"
    merged = render("yaml", Credentials("AK", "SK"), vars_prefix="prod_", into=text)
    assert merged == 'iam_access_key: not-ours\nprod_access_key: "AK"\nprod_secret_key: "SK"\n'


def test_yaml_leaves_foreign_keys_set_twice_to_yaml() -> None:
    text = "other: 1\nother: 2\niam_access_key: AK\niam_secret_key: SK\n"
    assert parse("yaml", text) == Credentials("AK", "SK")
    assert render("yaml", Credentials("AK2", "SK"), into=text).startswith("other: 1\nother: 2\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"iam_access_key: AK\niam_secret_key: x\niam_secret_key: {SECRET}\n", "iam_secret_key twice (again on line 3"),
        (f"iam_access_key: AK\niam_secret_key:\n  nested: {SECRET}\n", "line 2: the value of iam_secret_key goes on"),
        (f"iam_access_key: AK\niam_secret_key:\n- {SECRET}\n", "line 2: the value of iam_secret_key goes on"),
        (f"iam_access_key: AK\niam_secret_key: >-\n  {SECRET}\n", "line 2: quote this value"),
        (f"iam_access_key: AK\niam_secret_key: &anchor {SECRET}\n", "line 2: quote this value"),
        (f"iam_access_key: AK\niam_secret_key: {SECRET}\n  more: {SECRET}\n", "line 2: the value of iam_secret_key"),
        (f"iam_access_key: AK\niam_secret_key: x\n...\nother: {SECRET}\n", "line 4 follows the end of the document"),
        (f"---\niam_access_key: AK\n---\niam_secret_key: {SECRET}\n", "line 3 starts a second YAML document"),
        (f"  iam_access_key: AK\n  iam_secret_key: {SECRET}\n", "line 1 is indented or a list item"),
        (f"- iam_access_key: AK\n- iam_secret_key: {SECRET}\n", "line 1 is indented or a list item"),
    ],
)
def test_yaml_is_strict_about_our_keys(text: str, message: str) -> None:
    for attempt in (lambda: parse("yaml", text), lambda: render("yaml", ROTATED, into=text)):
        with pytest.raises(CredentialFormatError) as caught:
            attempt()
        assert SECRET not in str(caught.value)
    with pytest.raises(CredentialFormatError, match=re.escape(message)):
        parse("yaml", text)


# env -----------------------------------------------------------------------------------------

ENV_FILE = """\
# expires_at: 2026-01-01T00:00:00Z
# Service environment
export PATH="$HOME/bin:$PATH"
GREETING='hello '"$USER"
CMD=`date` # a comment, for the shell
export HUAWEICLOUD_SDK_AK=AKOLD
HUAWEICLOUD_SDK_SK="old secret"
HUAWEICLOUD_SDK_SECURITY_TOKEN=oldtoken
HUAWEICLOUD_SDK_REGION=eu-de
HUAWEICLOUD_SDK_IAM_ENDPOINT=https://iam.example

LAST=1
"""


def test_env_merge_changes_only_our_lines() -> None:
    merged = render("env", ROTATED, into=ENV_FILE)
    assert merged == (
        "# user_id: 0a1b2c\n"
        "# user_name: alice\n"
        "# Service environment\n"
        'export PATH="$HOME/bin:$PATH"\n'
        "GREETING='hello '\"$USER\"\n"
        "CMD=`date` # a comment, for the shell\n"
        "export HUAWEICLOUD_SDK_AK=AKROTATED\n"
        f"HUAWEICLOUD_SDK_SK=rotated-{SECRET}\n"
        "HUAWEICLOUD_SDK_REGION=eu-de\n"
        "HUAWEICLOUD_SDK_IAM_ENDPOINT=https://iam.example\n"
        "HUAWEICLOUD_SDK_DOMAIN_ID=d0d0\n"
        "\n"
        "LAST=1\n"
    )
    assert parse("env", merged) == kept_settings(ROTATED, iam_endpoint="https://iam.example")


def test_env_merge_writes_new_lines_in_the_style_of_ours() -> None:
    text = "export OTHER=$HOME\nexport HUAWEICLOUD_SDK_AK=old\nexport HUAWEICLOUD_SDK_SK=old\nLAST=1"
    assert render("env", Credentials("AK", "a b", security_token="T"), into=text) == (
        'export OTHER=$HOME\nexport HUAWEICLOUD_SDK_AK=AK\nexport HUAWEICLOUD_SDK_SK="a b"\n'
        "export HUAWEICLOUD_SDK_SECURITY_TOKEN=T\nLAST=1\n"
    )


def test_env_merge_adds_ours_at_the_end_and_comments_at_the_top() -> None:
    text = "#!/not/a/script\nOTHER=1\n"
    merged = render("env", Credentials("AK", "SK", user_name="bob", expires_at="2030-01-01T00:00:00Z"), into=text)
    assert merged == (
        "# expires_at: 2030-01-01T00:00:00Z\n# user_name: bob\n#!/not/a/script\nOTHER=1\n"
        "HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=SK\n"
    )


def test_comments_are_replaced_in_place_and_added_in_order() -> None:
    text = "# header\n# user_id: old\nHUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=SK\n"
    merged = render("env", Credentials("AK", "SK", user_id="new", user_name="bob", expires_at="E"), into=text)
    assert merged == (
        "# header\n# expires_at: E\n# user_id: new\n# user_name: bob\nHUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=SK\n"
    )


def test_env_merge_keeps_crlf() -> None:
    text = "OTHER=1\r\nHUAWEICLOUD_SDK_AK=old\r\nHUAWEICLOUD_SDK_SK=old\r\n"
    merged = render("env", Credentials("AK", "SK", domain_id="d"), into=text)
    assert merged == "OTHER=1\r\nHUAWEICLOUD_SDK_AK=AK\r\nHUAWEICLOUD_SDK_SK=SK\r\nHUAWEICLOUD_SDK_DOMAIN_ID=d\r\n"


def test_env_merge_reads_the_same_in_systemd() -> None:
    merged = render("env", FULL, into=ENV_FILE)
    seen = systemd_environment_file(merged)
    assert seen["HUAWEICLOUD_SDK_SK"] == SECRET and seen["HUAWEICLOUD_SDK_SECURITY_TOKEN"] == TOKEN
    assert seen["HUAWEICLOUD_SDK_REGION"] == "eu-de" and seen["LAST"] == "1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=\"{SECRET}$HOME\"\n", "line 2: an unescaped $"),
        (f"HUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=x\nexport HUAWEICLOUD_SDK_SK={SECRET}\n", "SK twice (again on"),
        (f"HUAWEICLOUD_SDK_AK=AK\nOTHER = {SECRET}\n", "line 2 is not a NAME=value line"),
        (f"HUAWEICLOUD_SDK_AK=AK\n{SECRET}\n", "line 2 is not a NAME=value line"),
    ],
)
def test_env_is_strict_about_our_lines(text: str, message: str) -> None:
    for attempt in (lambda: parse("env", text), lambda: render("env", ROTATED, into=text)):
        with pytest.raises(CredentialFormatError, match=re.escape(message)) as caught:
            attempt()
        assert SECRET not in str(caught.value)


def test_env_foreign_lines_are_never_read() -> None:
    text = f"OTHER=\"{SECRET}$HOME\"\nOTHER='unterminated\nOTHER=`x`\nHUAWEICLOUD_SDK_AK=AK\nHUAWEICLOUD_SDK_SK=SK\n"
    assert parse("env", text) == Credentials("AK", "SK")
    assert render("env", Credentials("AK2", "SK"), into=text).startswith(text.split("HUAWEICLOUD", maxsplit=1)[0])


# obsutil -------------------------------------------------------------------------------------

OBSUTIL_FILE = """\
# expires_at: 2026-01-01T00:00:00Z
endpoint=https://obs.eu-de.example
ak=AKOLD
sk=oldsecret
token=oldtoken
akCrypto=
skCrypto=
proxyUrl=http://user:p%40ss@proxy.example:3128
connectTimeout=30
socketTimeout=60
maxRetryCount=3
"""


def test_obsutil_merge_keeps_its_settings_and_drops_the_token() -> None:
    merged = render("obsutil", ROTATED, into=OBSUTIL_FILE)
    assert merged == (
        "# user_id: 0a1b2c\n# user_name: alice\n# domain_id: d0d0\n"
        "endpoint=https://obs.eu-de.example\n"
        f"ak=AKROTATED\nsk=rotated-{SECRET}\n"
        "akCrypto=\nskCrypto=\nproxyUrl=http://user:p%40ss@proxy.example:3128\n"
        "connectTimeout=30\nsocketTimeout=60\nmaxRetryCount=3\n"
    )
    assert parse("obsutil", merged) == kept_settings(ROTATED, obs_endpoint="https://obs.eu-de.example")


def test_obsutil_merge_replaces_the_endpoint_it_is_given() -> None:
    merged = render("obsutil", dataclasses.replace(FULL, obs_endpoint="https://obs.new"), into=OBSUTIL_FILE)
    assert merged.splitlines()[4:9] == ["endpoint=https://obs.new", "ak=AKEXAMPLE", f"sk={SECRET}", f"token={TOKEN}",
                                        "akCrypto="]
    assert merged.splitlines()[0] == f"# expires_at: {FULL.expires_at}"  # replaced in place


def test_obsutil_merge_adds_the_key_next_to_the_endpoint() -> None:
    text = "endpoint=https://obs.example\nak=\nsk=\nsdkLogBackups=10\n"  # as "obsutil config" leaves it
    assert render("obsutil", Credentials("AK", "SK"), into=text) == (
        "endpoint=https://obs.example\nak=AK\nsk=SK\nsdkLogBackups=10\n"
    )
    text = "endpoint=https://obs.example\nsdkLogBackups=10\n"
    assert render("obsutil", Credentials("AK", "SK"), into=text) == (
        "endpoint=https://obs.example\nak=AK\nsk=SK\nsdkLogBackups=10\n"
    )
    assert render("obsutil", Credentials("AK", "SK"), into="sdkLogBackups=10") == "sdkLogBackups=10\nak=AK\nsk=SK\n"


# sdk_profile ---------------------------------------------------------------------------------

SDK_PROFILE = """\
# my profile
[basic]
AK = AKOLD
sk = oldsecret
project_id = p1
security_token = oldtoken
region = eu-de
iam_endpoint = https://iam.example

[global]
ak=AKOLD
sk: oldsecret
security_token = oldtoken
domain_id = d-old
note = a value that goes
  on over two lines
iam_endpoint = https://iam.example

; the end of our sections
[other]
ak = someone-else
sk = not-ours
"""


def test_sdk_profile_merge_changes_only_our_lines() -> None:
    merged = render("sdk_profile", ROTATED, into=SDK_PROFILE)
    assert merged == (
        "# user_id: 0a1b2c\n# user_name: alice\n"
        "# my profile\n"
        "[basic]\n"
        "AK = AKROTATED\n"
        f"sk = rotated-{SECRET}\n"
        "project_id = p1\n"
        "region = eu-de\n"
        "iam_endpoint = https://iam.example\n"
        "\n"
        "[global]\n"
        "ak=AKROTATED\n"
        f"sk: rotated-{SECRET}\n"
        "domain_id = d0d0\n"
        "note = a value that goes\n"
        "  on over two lines\n"
        "iam_endpoint = https://iam.example\n"
        "\n"
        "; the end of our sections\n"
        "[other]\n"
        "ak = someone-else\n"
        "sk = not-ours\n"
    )
    assert parse("sdk_profile", merged) == kept_settings(ROTATED, iam_endpoint="https://iam.example")


def test_sdk_profile_merge_adds_options_after_the_last_one_of_a_section() -> None:
    text = "[basic]\nak = old\nsk = old\nproject_id = p1\n\n\n[global]\nregion = eu-de\n\n"
    merged = render("sdk_profile", Credentials("AK", "SK", security_token="T", domain_id="d"), into=text)
    assert merged == (
        "[basic]\nak = AK\nsk = SK\nproject_id = p1\nsecurity_token = T\n\n\n"
        "[global]\nregion = eu-de\nak = AK\nsk = SK\nsecurity_token = T\ndomain_id = d\n\n"
    )


def test_sdk_profile_merge_appends_a_missing_section_with_the_files_endpoint() -> None:
    text = "[basic]\nak = old\nsk = old\niam_endpoint = https://iam.example\n[other]\nx = 1"
    merged = render("sdk_profile", ROTATED, into=text)
    assert merged == (
        f"# user_id: 0a1b2c\n# user_name: alice\n[basic]\nak = AKROTATED\nsk = rotated-{SECRET}\n"
        "iam_endpoint = https://iam.example\n[other]\nx = 1\n"
        f"\n[global]\nak = AKROTATED\nsk = rotated-{SECRET}\ndomain_id = d0d0\niam_endpoint = https://iam.example\n"
    )
    assert parse("sdk_profile", merged) == kept_settings(ROTATED, iam_endpoint="https://iam.example")


def test_sdk_profile_merge_replaces_a_value_that_goes_on_over_lines() -> None:
    text = "[basic]\nak = AK\nsk = SK\nsecurity_token = part1\n\n  part2\nregion = r\n"
    assert parse("sdk_profile", text) == Credentials("AK", "SK", security_token="part1\n\npart2")
    merged = render("sdk_profile", Credentials("AK", "SK", security_token="T"), into=text)
    assert merged.startswith("[basic]\nak = AK\nsk = SK\nsecurity_token = T\n\nregion = r\n")
    merged = render("sdk_profile", Credentials("AK", "SK"), into=text)
    assert merged.startswith("[basic]\nak = AK\nsk = SK\n\nregion = r\n")


def test_sdk_profile_merge_refuses_what_would_read_differently() -> None:
    # [DEFAULT] lends its options to every section: removing ours would not remove its token.
    text = f"[DEFAULT]\nsecurity_token = {SECRET}\n[basic]\nak = AK\nsk = SK\n"
    with pytest.raises(CredentialFormatError, match="other content in it would change how they read") as caught:
        render("sdk_profile", Credentials("AK", "SK"), into=text)
    assert SECRET not in str(caught.value)


def test_sdk_profile_merge_reads_the_same_in_huaweicloudsdkcore(tmp_path: Path) -> None:
    provider = pytest.importorskip("huaweicloudsdkcore.auth.provider")
    profile = tmp_path / "credentials"
    profile.write_text(render("sdk_profile", FULL, into=SDK_PROFILE), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HUAWEICLOUD_SDK_CREDENTIALS_FILE", str(profile))
        seen = provider.ProfileCredentialProvider.get_global_credential_profile_provider().get_credentials()
        basic = provider.ProfileCredentialProvider.get_basic_credential_profile_provider().get_credentials()
    assert (seen.ak, seen.sk, seen.security_token, seen.domain_id, seen.iam_endpoint) == (
        FULL.access_key_id, FULL.secret_access_key, FULL.security_token, FULL.domain_id, FULL.iam_endpoint
    )
    assert (basic.ak, basic.sk, basic.project_id) == (FULL.access_key_id, FULL.secret_access_key, "p1")


@pytest.mark.parametrize("bad", ["a%b", "a#b", " lead"])
def test_sdk_profile_merge_refuses_values_the_ini_readers_would_change(bad: str) -> None:
    with pytest.raises(CredentialFormatError, match="sdk_profile format cannot hold the secret access key"):
        render("sdk_profile", Credentials("AK", bad), into=SDK_PROFILE)


@pytest.mark.parametrize(
    "text",
    [
        f"[basic]\nak = AK\nsk = SK\nsk = {SECRET}\n",
        f"[basic]\nak = AK\n{SECRET}\n",
        f"ak = {SECRET}\n",
        f"[global]\nak = AK\nsk = {SECRET}\n[basic]\nak = AK\nsk = other\n",
    ],
)
def test_sdk_profile_merge_refuses_a_file_it_cannot_read(text: str) -> None:
    with pytest.raises(CredentialFormatError) as caught:
        render("sdk_profile", ROTATED, into=text)
    assert SECRET not in str(caught.value)


# every format --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "env", "sdk_profile", "obsutil"])
def test_rotating_a_temporary_key_to_a_permanent_one_removes_the_token_and_expiry(fmt: str) -> None:
    merged = render(fmt, ROTATED, into=render(fmt, FULL))
    assert TOKEN not in merged and FULL.expires_at not in merged
    assert parse(fmt, merged) == held(fmt, kept_settings(
        ROTATED, iam_endpoint=FULL.iam_endpoint, obs_endpoint=FULL.obs_endpoint))


# The property: foreign content kept in order, ours read back. Foreign content is drawn from
# what users keep next to credentials, with values that are never read (any printable text).

_ANY = _text()
_FOREIGN = {
    "yaml": st.one_of(
        st.sampled_from([
            "# a comment",
            "",
            "nested:\n  deep:\n    - 1\n    - {a: b}",
            "hosts:\n- a\n- b",
            "motd: |+\n  text\n\n",
            "folded: >-\n  iam_access_key: in a block\n  more",
            "base: &base\n  k: v\nuses:\n  <<: *base\n  x: 2",
            '"spaced key": 1',
            "dashed-key.x: y",
            "empty:",
        ]),
        st.builds(lambda n, value: f"db_{n}: {json.dumps(value, ensure_ascii=False)}", st.integers(0, 3), _ANY),
    ),
    "env": st.one_of(
        st.sampled_from(["# a comment", "", 'export PATH="$HOME/bin:$PATH"', "CMD=`date`", "HUAWEICLOUD_SDK_REGION=r"]),
        st.builds(lambda n, value: f"OTHER_{n}={value}", st.integers(0, 3), _ANY),
        st.builds(lambda value: f"# note {value}", _ANY),
    ),
    "obsutil": st.one_of(
        st.sampled_from(["# a comment", "", "akCrypto=", "proxyUrl=http://proxy:3128", "connectTimeout=30"]),
        st.builds(lambda n, value: f"setting{n}={value}", st.integers(0, 3), _ANY),
        st.builds(lambda value: f"# note {value}", _ANY),
    ),
}
_INI_OPTIONS = ("project_id", "region", "opt-a", "opt.b", "Note")


def ours(fmt: str, line: str) -> bool:
    """Whether ``line`` of a (non-sdk_profile) file is one of ours."""
    if re.match(r"# (expires_at|user_id|user_name|domain_id): ", line):
        return True
    if fmt == "yaml":
        return re.match(r"iam_(access_key|secret_key|user_id|user_name|security_token|expires_at|domain_id|endpoint"
                        r"|obs_endpoint):", line) is not None
    if fmt == "env":
        return re.match(r"(export )?HUAWEICLOUD_SDK_(AK|SK|SECURITY_TOKEN|DOMAIN_ID|IAM_ENDPOINT)=", line) is not None
    return re.match(r"(ak|sk|token|endpoint)=", line) is not None


def ini_without_ours(text: str) -> list[str]:
    kept, section = [], None
    for line in text.splitlines():
        header = re.match(r"\[(.+)\]", line)
        section = header.group(1) if header else section
        option = re.match(r"([^=:\s]+)\s*[=:]", line)
        if re.match(r"# (expires_at|user_id|user_name): ", line) or (
            section in ("basic", "global") and option and option.group(1).lower() in
            ("ak", "sk", "security_token", "iam_endpoint") + (("domain_id",) if section == "global" else ())
        ):
            continue
        kept.append(line)
    return kept


def interleave(data: st.DataObject, foreign: list[str], mine: list[str]) -> list[str]:
    """``foreign`` and ``mine`` mixed, each in its own order."""
    slots = sorted(data.draw(st.lists(st.integers(0, len(foreign)), min_size=len(mine), max_size=len(mine))))
    mixed: list[str] = []
    for position in range(len(foreign) + 1):
        mixed.extend(item for item, slot in zip(mine, slots) if slot == position)
        mixed.extend(foreign[position: position + 1])
    return mixed


def file_with(fmt: str, data: st.DataObject, old: Credentials | None) -> str:
    """A file of ``fmt`` with foreign content and, when given, the lines of ``old``."""
    if fmt == "sdk_profile":
        return profile_with(data, old)
    foreign = data.draw(st.lists(_FOREIGN[fmt], max_size=8, unique=True))  # YAML allows an anchor once
    mine = [line for line in render(fmt, old).splitlines() if line != "---"] if old else []
    lines = ["# kept by the user", *interleave(data, foreign, mine)]
    if fmt == "yaml" and data.draw(st.booleans()):
        lines.insert(1, "---")
    return "\n".join(lines) + "\n"


def profile_with(data: st.DataObject, old: Credentials | None) -> str:
    rendered = render("sdk_profile", old).splitlines() if old else []
    mine = {"basic": [], "global": []}
    section = None
    for line in rendered:
        if line in ("[basic]", "[global]"):
            section = line[1:-1]
        elif section and line:
            mine[section].append(line)
    text = [line for line in rendered if line.startswith("#")] + ["# kept by the user"]
    for name in ("basic", "global", "other"):
        options = data.draw(st.lists(st.sampled_from(_INI_OPTIONS), unique_by=str.lower, max_size=4))
        foreign = [f"{option} = {data.draw(_ANY)}" for option in options]
        if data.draw(st.booleans()):
            foreign.append("multi = first\n  second")
        text.append(f"[{name}]")
        text.extend(interleave(data, foreign, mine.get(name, [])))
        text.append("")
    return "\n".join(text) + "\n"


@pytest.mark.parametrize("fmt", ["yaml", "env", "sdk_profile", "obsutil"])
@given(data=st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_merge_keeps_foreign_content_and_reads_back(fmt: str, data: st.DataObject) -> None:
    old = data.draw(st.none() | credentials_for(fmt))
    new = data.draw(credentials_for(fmt))
    into = file_with(fmt, data, old)
    merged = render(fmt, new, into=into)
    settings_kept = {
        name: getattr(old, name) if old else None
        for name in ("iam_endpoint", "obs_endpoint") if getattr(new, name) is None
    }
    assert parse(fmt, merged) == held(fmt, dataclasses.replace(new, **settings_kept))
    if fmt == "sdk_profile":
        assert ini_without_ours(merged) == ini_without_ours(into)
    else:
        assert [line for line in merged.splitlines() if not ours(fmt, line)] == [
            line for line in into.splitlines() if not ours(fmt, line)
        ]
    if fmt == "yaml":
        def foreign(text: str) -> dict:
            return {key: value for key, value in (yaml.safe_load(text) or {}).items() if not key.startswith("iam_")}

        assert foreign(merged) == foreign(into)


# --- Credentials ---------------------------------------------------------------------------


def test_repr_and_str_hide_the_secret_and_token() -> None:
    for shown in (repr(FULL), str(FULL), f"{FULL}", repr([FULL])):
        assert SECRET not in shown and TOKEN not in shown
        assert "AKEXAMPLE" in shown and "secret=<hidden>" in shown and "security_token=<hidden>" in shown


def test_empty_optional_values_mean_unset() -> None:
    assert Credentials("AK", "SK", security_token="", user_id="") == Credentials("AK", "SK")


@pytest.mark.parametrize(("kwargs", "error"), [({"access_key_id": ""}, ValueError), ({"user_id": 42}, TypeError)])
def test_credentials_are_checked(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        Credentials(**{"access_key_id": "AK", "secret_access_key": "SK", **kwargs})
