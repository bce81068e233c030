"""The OpenID provider the single sign-on tests run against: panva's certified `oidc-provider`
from npm, configured in tests/oidc/provider.mjs, on 127.0.0.1 only (tests/test_sso.py and
tests/e2e/test_sso.py start it)."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

OIDC_DIR = Path(__file__).resolve().parent / "oidc"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install_provider() -> None:
    """npm only when the package is missing (CI installs it up front, .ci/run)."""
    if (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed for the single sign-on tests (tests/oidc)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=OIDC_DIR, check=True, timeout=300)


def start_provider(port: int, callback: str, logout: str) -> subprocess.Popen:
    """`node provider.mjs` on `port`, once its discovery document answers."""
    env = {**os.environ, "PORT": str(port), "REDIRECT_URIS": callback, "LOGOUT_URIS": logout}
    process = subprocess.Popen(
        ["node", "provider.mjs"],
        cwd=OIDC_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    discovery = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode()[-2000:])
        try:
            if requests.get(discovery, timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the OpenID provider did not start")
