"""Finding the library and installing the package: from the checkout the
package finds build/libncf.so by itself; NCF_LIBRARY overrides it and a bad
one is an error naming it; `pip install ./python` works offline in a
virtual environment and the installed package trains."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


def py(code, env, cwd=None):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd)


def test_finds_checkout_build_without_env(tmp_path):
    lib = os.path.join(ROOT, "build", "libncf.so")
    if not os.path.exists(lib):
        pytest.skip("no build/libncf.so in this checkout (another BUILD directory)")
    env = {k: v for k, v in os.environ.items() if k != "NCF_LIBRARY"}
    env["PYTHONPATH"] = os.path.join(ROOT, "python")
    p = py("import ncf; print(ncf.library_path)", env, cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert os.path.realpath(p.stdout.strip()) == os.path.realpath(lib)


def test_bad_ncf_library_is_named(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"), NCF_LIBRARY=str(tmp_path / "nope.so"))
    p = py("import ncf", env)
    assert p.returncode != 0 and "nope.so" in p.stderr and "NCF_LIBRARY" in p.stderr


def test_pip_install_offline_in_venv(tmp_path, synth):
    if subprocess.run([sys.executable, "-c", "import venv, ensurepip"], capture_output=True).returncode:
        pytest.skip("python3-venv is not installed")
    src = tmp_path / "src"
    shutil.copytree(os.path.join(ROOT, "python"), str(src), ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                                          "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-build-isolation", "--no-index",
                        str(src)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["NCF_LIBRARY"] = os.environ.get("NCF_LIBRARY", os.path.join(ROOT, "build", "libncf.so"))
    code = ("import ncf, sys; assert 'site-packages' in ncf.__file__, ncf.__file__; "
            "m = ncf.train(ncf.Dataset.from_file(sys.argv[1]), model='gmf', epochs=1); print(m.history[0]['hr@10'])")
    p = subprocess.run([str(venv / "bin" / "python"), "-c", code, synth], capture_output=True, text=True, env=env,
                       cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert 0.0 < float(p.stdout) <= 1.0
