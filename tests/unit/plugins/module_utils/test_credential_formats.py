# Copyright: (c) 2026, keywarden.iam contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess

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


def test_sdk_profile_layout() -> None:
    assert render("sdk_profile", FULL) == (
        f"# expires_at: {FULL.expires_at}\n"
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
        f"ak=AKEXAMPLE\nsk={SECRET}\ntoken={TOKEN}\nendpoint=https://obs.eu-de.otc.t-systems.com\n"
    )


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


# --- Credentials ---------------------------------------------------------------------------


def test_repr_and_str_hide_the_secret_and_token() -> None:
    for shown in (repr(FULL), str(FULL), f"{FULL}", repr([FULL])):
        assert SECRET not in shown and TOKEN not in shown
        assert "AKEXAMPLE" in shown and "secret=<hidden>" in shown and "security_token=<hidden>" in shown


def test_secrets_lists_what_to_keep_out_of_logs() -> None:
    assert FULL.secrets() == (SECRET, TOKEN)
    assert Credentials("AK", SECRET).secrets() == (SECRET,)


def test_empty_optional_values_mean_unset() -> None:
    assert Credentials("AK", "SK", security_token="", user_id="") == Credentials("AK", "SK")


@pytest.mark.parametrize(("kwargs", "error"), [({"access_key_id": ""}, ValueError), ({"user_id": 42}, TypeError)])
def test_credentials_are_checked(kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        Credentials(**{"access_key_id": "AK", "secret_access_key": "SK", **kwargs})
