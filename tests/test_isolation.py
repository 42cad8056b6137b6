"""The suite's own guarantees."""

import socket
import subprocess
import sys

import pytest


def test_network_is_blocked() -> None:
    with pytest.raises(OSError, match="may not reach the network"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def test_importing_the_domain_loads_no_django() -> None:
    code = (
        "import sys, pkgutil, importlib, kratomwatch.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'kratomwatch.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'django' or n.startswith('django.'))\n"
        "print(len([n for n in sys.modules if n.startswith('kratomwatch.domain')]))\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= 3  # the walk really imported the domain modules
