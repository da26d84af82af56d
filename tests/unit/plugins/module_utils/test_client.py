"""The IAM client against the local server: every call, every retry rule, every error class and
the message a user sees for it."""

from __future__ import annotations

import errno
import http.client
import socket
import ssl

import pytest

from ansible_collections.keywarden.iam.plugins.module_utils import _errors as errors
from ansible_collections.keywarden.iam.plugins.module_utils._client import IamClient
from ansible_collections.keywarden.iam.plugins.module_utils._connection import settings_from_params
from ansible_collections.keywarden.iam.plugins.module_utils._retry import ThrottleGate
from ansible_collections.keywarden.iam.plugins.module_utils._transport import _classify
from tests.fakeiam.harness import SEEDS, FakeIam

ADMIN_AK = "CVKK734506UOYW5P4XW2"
ADMIN_SK = "8iXmKEWTu6IAMHt0vln3mwV3rRFpNLTRrsogxD1X"
BOB_AK = "AGR8TBVH47YCZV10V76F"
BOB_SK = "8JaAiBSnmW7wim38GmtdnjabKQk3oARRRUOqPs7Y"


class Sleeps:
    """A virtual clock: records the waits a client asks for and moves time on instead of waiting."""

    def __init__(self):
        self.waits = []
        self.now = 0.0

    def __call__(self, seconds):
        self.waits.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now


def make_client(url, *, ak=ADMIN_AK, sk=ADMIN_SK, sleeps=None, **options):
    params = {"iam_endpoint": url, "access_key": ak, "secret_key": sk, "validate_certs": True,
              "timeout": 5, "retries": 3, **options}
    sleeps = sleeps or Sleeps()
    return IamClient(settings_from_params(params), gate=ThrottleGate(clock=sleeps.clock, sleep=sleeps), sleep=sleeps)


def user_id(iam, name):
    return iam.user(name)["id"]


def test_key_lifecycle(iam):
    client = make_client(iam.url)
    alice = user_id(iam, "alice")
    keys = client.list_keys(alice)
    assert [k.description for k in keys] == ["alice laptop", "alice old ci"]  # oldest first
    client.delete_key(keys[0].access_key_id)
    new = client.create_key(alice, "made by test")
    server_key = next(k for k in iam.keys_of("alice") if k["access"] == new.key.access_key_id)
    assert new.secret_access_key == server_key["secret"]
    assert "secret" not in repr(new).lower() or server_key["secret"] not in repr(new)
    shown = client.show_key(new.key.access_key_id)
    assert shown.last_used == shown.created  # never used yet
    updated = client.update_key(new.key.access_key_id, status="inactive", description="parked")
    assert (updated.status, updated.description) == ("inactive", "parked")
    client.delete_key(new.key.access_key_id)
    assert new.key.access_key_id not in {k["access"] for k in iam.keys_of("alice")}


def test_domain_id_is_discovered_once(iam):
    client = make_client(iam.url)
    iam.reset_counters()
    client.list_keys()
    client.list_keys()
    assert iam.counters()["by_operation"].get("list_domains") == 1
    assert client.caller_user_id() == user_id(iam, "admin")


def test_password_auth_fetches_one_token_for_the_run(iam):
    params = {"iam_endpoint": iam.url, "auth_username": "admin", "auth_password": "Admin-Demo-Passw0rd",
              "auth_domain_name": "keywarden-demo"}
    client = IamClient(settings_from_params(params))
    iam.reset_counters()
    assert client.caller_user_id() == user_id(iam, "admin")
    client.list_keys(user_id(iam, "alice"))
    client.find_user("bob")
    assert iam.counters()["by_operation"]["create_token"] == 1


def test_wrong_password_is_authentication_failed(iam):
    params = {"iam_endpoint": iam.url, "auth_username": "admin", "auth_password": "wrong",
              "auth_domain_name": "keywarden-demo"}
    with pytest.raises(errors.AuthenticationFailed, match="auth_password"):
        IamClient(settings_from_params(params)).list_keys()


def test_key_limit(iam):
    client = make_client(iam.url)
    with pytest.raises(errors.KeyLimitExceeded) as caught:
        client.create_key(user_id(iam, "alice"))
    assert "at most two access keys" in caught.value.message
    assert caught.value.message.startswith("Failed to create an access key for user")


def test_not_found(iam):
    with pytest.raises(errors.NotFound, match="Check the user id"):
        make_client(iam.url).show_key("NOSUCHKEY00000000000")


def test_an_unknown_user_name_is_not_an_http_error(iam):
    """Issue 14: the user listing answered 200, and the error said "status": 200 and hinted at key ids."""
    with pytest.raises(errors.NotFound) as caught:
        make_client(iam.url).find_user("nobody")
    assert caught.value.message == (
        "Failed to find IAM user 'nobody': no user has that name in this account. Check the spelling (user names "
        "are case-sensitive) and that the user belongs to this account, or name the user by user_id.")
    assert caught.value.details() == {"error_type": "NotFound", "status": None, "code": None, "request_id": None}


def test_forbidden_names_both_causes(iam):
    bob = make_client(iam.url, ak=BOB_AK, sk=BOB_SK)
    with pytest.raises(errors.Forbidden) as caught:
        bob.list_keys(user_id(iam, "alice"))
    assert "Security Administrator" in caught.value.message
    assert "Access Key Management" in caught.value.message


def test_wrong_secret_is_authentication_failed(iam):
    with pytest.raises(errors.AuthenticationFailed) as caught:
        make_client(iam.url, sk="x" * 40).list_keys(user_id(iam, "admin"))
    assert not isinstance(caught.value, errors.SignatureExpired)
    assert "x" * 40 not in caught.value.message


def test_clock_skew_is_signature_expired_and_names_the_clock(iam):
    iam.set_skew(20 * 60)
    with pytest.raises(errors.SignatureExpired, match="synchronise this machine's clock"):
        make_client(iam.url).list_keys(user_id(iam, "admin"))


def test_inactive_key_is_refused(iam):
    make_client(iam.url).update_key(BOB_AK, status="inactive")
    with pytest.raises(errors.AuthenticationFailed, match="inactive"):
        make_client(iam.url, ak=BOB_AK, sk=BOB_SK).list_keys()


def test_throttling_honours_retry_after_and_holds_the_gate(iam):
    sleeps = Sleeps()
    iam.inject_fault("list_credentials", "throttle", count=2, retry_after=7)
    keys = make_client(iam.url, sleeps=sleeps).list_keys(user_id(iam, "bob"))
    assert len(keys) == 1
    assert sleeps.waits == [7.0, 7.0]


def test_throttling_without_retry_after_backs_off_exponentially(iam):
    sleeps = Sleeps()
    iam.inject_fault("list_credentials", "throttle", count=3)
    make_client(iam.url, sleeps=sleeps).list_keys(user_id(iam, "bob"))
    assert len(sleeps.waits) == 3
    assert sleeps.waits[0] < sleeps.waits[2]  # equal jitter: each wait at least half its growing ceiling


def test_throttled_beyond_retries(iam):
    iam.inject_fault("list_credentials", "throttle", count=10)
    with pytest.raises(errors.Throttled, match="throttling"):
        make_client(iam.url).list_keys(user_id(iam, "bob"))


def test_server_error_is_retried_then_reported(iam):
    iam.inject_fault("show_credential", "status", count=1, status=503)
    assert make_client(iam.url).show_key(BOB_AK).access_key_id == BOB_AK
    iam.inject_fault("show_credential", "status", count=10, status=500)
    with pytest.raises(errors.ServerError, match="request id"):
        make_client(iam.url).show_key(BOB_AK)


def test_create_is_never_retried_blindly(iam):
    client = make_client(iam.url)
    bob = user_id(iam, "bob")
    iam.inject_fault("create_credential", "drop_after_commit")
    with pytest.raises(errors.CreateOutcomeUnknown, match="may have been created"):
        client.create_key(bob)
    assert len(iam.keys_of("bob")) == 2  # committed once, not retried
    assert iam.counters()["by_operation"]["create_credential"] == 1

    iam.inject_fault("create_credential", "status", status=500)
    with pytest.raises(errors.CreateOutcomeUnknown):
        client.create_key(bob)


def test_create_is_retried_when_throttled(iam):
    iam.inject_fault("create_credential", "throttle", retry_after=0)
    new = make_client(iam.url).create_key(user_id(iam, "bob"))
    assert new.key.access_key_id in {k["access"] for k in iam.keys_of("bob")}


def test_delete_whose_answer_was_lost_succeeds_on_retry(iam):
    iam.inject_fault("delete_credential", "drop_after_commit")
    make_client(iam.url).delete_key(BOB_AK)
    assert iam.keys_of("bob") == []


def test_timeout_is_request_timeout(iam):
    iam.inject_fault("show_credential", "delay", count=5, seconds=2)
    with pytest.raises(errors.RequestTimeout, match="raise the timeout"):
        make_client(iam.url, timeout=1, retries=0).show_key(BOB_AK)


def test_dead_endpoint_is_network_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(errors.NetworkError, match="could not reach http://127.0.0.1"):
        make_client(f"http://127.0.0.1:{port}", retries=1, domain_id="c49760f83a274c19af982f4278e7576b").list_keys()


def test_tls_untrusted_then_trusted_with_ca_path():
    with FakeIam(SEEDS / "demo.json", tls=True) as server:
        with pytest.raises(errors.TlsError) as caught:
            make_client(server.url, retries=0).list_keys()
        assert caught.value.message.startswith(
            f"Failed to find the account (domain) id: the TLS handshake with {server.url} failed ([SSL: "
            "CERTIFICATE_VERIFY_FAILED]")
        assert caught.value.message.endswith(
            "The endpoint's TLS certificate is not trusted: set ca_path to the CA bundle that signed it. "
            "validate_certs: false turns the check off and is not recommended.")
        assert make_client(server.url, ca_path=server.ca_file).caller_user_id()


def test_https_to_a_plain_http_server_says_it_speaks_no_tls(iam):
    """Issue 14: this said "The endpoint's TLS certificate is not trusted: set ca_path"."""
    url = iam.url.replace("http://", "https://")
    iam.reset_counters()
    with pytest.raises(errors.EndpointNotTls) as caught:
        make_client(url, retries=0).list_keys()
    message = caught.value.message
    assert message.startswith(f"Failed to find the account (domain) id: {url} does not speak TLS (")
    assert message.endswith(
        "The server at that address does not speak TLS: it answered the TLS handshake in plain text, as an "
        "http:// server does. If it is a plain-HTTP server, name it with http://; otherwise fix the port.")
    assert not isinstance(caught.value, errors.TlsError) and "ca_path" not in message
    assert iam.counters()["total"] == 0  # no request was ever sent


def test_a_lost_answer_says_the_endpoint_was_reached(iam):
    # Twice: the show follows the account look-up on the same kept-alive connection, and a GET
    # that fails there before any answer is sent once more on a new connection (a stale
    # connection looks just like this drop; see test_one_drop_on_a_kept_connection_is_resent).
    iam.inject_fault("show_credential", "drop_after_commit", count=2)
    with pytest.raises(errors.AnswerLost) as caught:
        make_client(iam.url, retries=0).show_key(BOB_AK)
    message = caught.value.message
    assert message.startswith(f"Failed to show access key {BOB_AK}: the connection to {iam.url} closed before "
                              "an answer came (Remote end closed connection without response).")
    assert "could not reach" not in message and "Run the task again" in message


def test_one_drop_on_a_kept_connection_is_resent_at_once(iam):
    """A GET dropped without an answer on a reused connection is resent once, uncounted, unslept."""
    sleeps = Sleeps()
    client = make_client(iam.url, retries=0, sleeps=sleeps)
    client.domain_id()  # the connection is now kept
    iam.reset_counters()
    iam.inject_fault("show_credential", "drop")
    assert client.show_key(BOB_AK).access_key_id == BOB_AK
    assert iam.counters()["by_operation"]["show_credential"] == 2
    assert sleeps.waits == []
    client.close()


def test_a_delete_resent_after_a_stale_connection_accepts_the_404(iam):
    """The resend is a retry: a delete whose first copy was done finds the key gone, which is success."""
    client = make_client(iam.url, retries=0)
    client.domain_id()
    iam.inject_fault("delete_credential", "drop_after_commit")
    client.delete_key(BOB_AK)
    assert iam.keys_of("bob") == []
    assert iam.counters()["by_operation"]["delete_credential"] == 2
    client.close()


def test_a_create_never_rides_on_a_kept_connection(iam):
    """The create's connection is its own, so its lost answer is reported, never resent."""
    client = make_client(iam.url)
    client.list_keys(user_id(iam, "bob"))  # a kept connection exists
    iam.reset_counters()
    iam.inject_fault("create_credential", "drop")
    with pytest.raises(errors.CreateOutcomeUnknown):
        client.create_key(user_id(iam, "bob"))
    assert iam.counters()["by_operation"]["create_credential"] == 1
    client.close()


@pytest.mark.parametrize("reason, kind, may_have_arrived", [
    (ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"), "not_tls", False),
    (ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "tls", False),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "refused", False),
    (socket.gaierror(-2, "Name or service not known"), "dns", False),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable", False),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable", False),
    (socket.timeout("timed out"), "timeout", True),
    (http.client.RemoteDisconnected("Remote end closed connection without response"), "dropped", True),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "dropped", True),
    (OSError(errno.EIO, "I/O error"), "failed", True),  # unknown: assume the server may have acted
    # The server closed the TLS connection: once the request left, it may have acted on it.
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), "dropped", True),
    (ssl.SSLZeroReturnError(6, "TLS/SSL connection has been closed (EOF)"), "dropped", True),
])
def test_connection_problems_are_classified(reason, kind, may_have_arrived):
    problem = _classify(reason)
    assert (problem.kind, problem.may_have_arrived) == (kind, may_have_arrived)


def test_a_create_that_fails_before_connecting_is_known_not_to_have_arrived():
    # The CA file cannot be read: nothing left this machine, so the create is not "maybe made"
    # (which would have the executor reconcile a key that cannot exist).
    with FakeIam(SEEDS / "demo.json", tls=True) as server:
        client = make_client(server.url, ca_path="/nonexistent/ca.pem", retries=0,
                             domain_id="c49760f83a274c19af982f4278e7576b")
        with pytest.raises(errors.IamError) as caught:
            client.create_key(user_id(server, "bob"))
        assert not isinstance(caught.value, errors.CreateOutcomeUnknown), caught.value.message
        assert server.counters()["total"] == 0


def test_a_header_http_cannot_carry_is_refused_without_quoting_it(iam):
    client = make_client(iam.url, security_token="TOPSECRETTOKEN\r\nX-Injected: 1", retries=0,
                         domain_id="c49760f83a274c19af982f4278e7576b")
    with pytest.raises(errors.IamError) as caught:
        client.list_keys(user_id(iam, "bob"))
    assert "TOPSECRETTOKEN" not in str(caught.value) and "line break" in caught.value.message


def test_bad_request_and_conflict(iam):
    with pytest.raises(errors.BadRequest, match="Check the option values"):
        make_client(iam.url).update_key(BOB_AK, description="x" * 300)
    iam.inject_fault("update_credential", "status", status=409)
    with pytest.raises(errors.Conflict, match="run the task again"):
        make_client(iam.url).update_key(BOB_AK, status="inactive")


def test_temporary_key_signs_calls_and_its_expiry_is_reported(iam):
    params = {"iam_endpoint": iam.url, "auth_username": "admin", "auth_password": "Admin-Demo-Passw0rd",
              "auth_domain_name": "keywarden-demo"}
    temporary = IamClient(settings_from_params(params)).create_temporary_key(duration_seconds=900)
    assert temporary.security_token and "securitytoken" not in repr(temporary).lower()
    client = make_client(iam.url, ak=temporary.access_key_id, sk=temporary.secret_access_key,
                         security_token=temporary.security_token)
    assert client.list_keys(user_id(iam, "bob"))
    iam.advance_clock(seconds=901)
    with pytest.raises(errors.SecurityTokenExpired, match="temporary_access_key"):
        client.list_keys(user_id(iam, "bob"))


class RecordingGate(ThrottleGate):
    """A gate that also records every back-off it is told to hold."""

    def __init__(self, sleeps):
        super().__init__(clock=sleeps.clock, sleep=sleeps)
        self.holds = []

    def hold_for(self, seconds):
        self.holds.append(seconds)
        super().hold_for(seconds)


def test_a_429_holds_the_shared_gate_and_every_client_waits_at_it(iam):
    """Batch threads share one gate: one thread's 429 holds back the others, not just itself."""
    sleeps = Sleeps()
    gate = RecordingGate(sleeps)
    settings = settings_from_params({"iam_endpoint": iam.url, "access_key": ADMIN_AK, "secret_key": ADMIN_SK})
    throttled = IamClient(settings, gate=gate, sleep=sleeps)
    bystander = IamClient(settings, gate=gate, sleep=sleeps)
    bob = user_id(iam, "bob")
    iam.inject_fault("list_credentials", "throttle", retry_after=9)
    throttled.list_keys(bob)
    assert gate.holds == [9.0]  # the back-off went to the shared gate, not to a private sleep
    gate.hold_for(4)            # as if another thread had just been throttled
    sleeps.waits.clear()
    bystander.list_keys(bob)
    assert sleeps.waits == [4.0]  # the bystander waited at the gate before sending anything
