"""Fixtures of the Python binding's tests: the checkout, the ncf tool, small
synthetic data made with `ncf synth`, and the shared MovieLens data (tests
that need it skip, saying so, when it is absent).

Run from the repository root: NCF_LIBRARY=build/libncf.so python3 -m pytest -q tests/python
(make test does). The package is imported from python/ unless it is
installed, and the library from NCF_LIBRARY or the checkout's build/."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

SHARED = os.environ.get("NCF_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
ML1M_HALF = os.path.join(SHARED, "ncf-ml-1m-half", "ml-1m-half")
if not os.path.exists(ML1M_HALF + ".train.rating"):
    ML1M_HALF = "/work/shared/data/ncf-ml-1m-half/ml-1m-half"


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def ncf_bin():
    path = os.environ.get("NCF_BIN", os.path.join(ROOT, "ncf"))
    if not os.path.isabs(path):
        path = os.path.join(ROOT, path)
    if not os.access(path, os.X_OK):
        pytest.skip("the ncf tool is not built (%s); run make" % path)
    return path


def run(cmd, **kw):
    """Runs a command, failing the test with its stderr when it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert p.returncode == 0, "%s exited %d: %s" % (" ".join(cmd), p.returncode, p.stderr)
    return p.stdout


@pytest.fixture(scope="session")
def synth(tmp_path_factory, ncf_bin):
    """A small synthetic interactions file (user TAB item TAB rating TAB time)."""
    path = str(tmp_path_factory.mktemp("data") / "synth.tsv")
    run([ncf_bin, "synth", "--out", path, "--users", "300", "--items", "200", "--interactions", "6000",
         "--seed", "7"])
    return path


@pytest.fixture(scope="session")
def ml1m_half():
    if not os.path.exists(ML1M_HALF + ".train.rating"):
        pytest.skip("shared data absent: %s.train.rating" % ML1M_HALF)
    return ML1M_HALF
