"""Loaded before Django starts (``-p tests.pytest_env``): the environment the real settings need.

Tests use the production settings module, which requires a secret key outside debug mode
and keeps SQLite files in a data directory.
"""

import os
import tempfile

os.environ.setdefault("KRATOMWATCH_SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnop")
os.environ.setdefault("KRATOMWATCH_DATA_DIR", tempfile.mkdtemp(prefix="kratomwatch-tests-"))
