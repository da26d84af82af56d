"""fakeiam: a strict local stand-in for Huawei Cloud / T Cloud Public IAM (see README.md).

The server modules use relative imports; server.py can also be run by path. harness.py is
the stdlib-only test-side helper that starts the server in a subprocess.
"""
