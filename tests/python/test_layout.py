"""The ctypes structures match the C headers: a C program compiled against
include/ncf prints every structure's size and each field's offset, and
ncf._lib's mirrors must agree (skipped without a C compiler)."""
import ctypes
import os
import shutil
import subprocess

import pytest

from ncf import _lib
from conftest import ROOT

STRUCTS = ["ncf_err", "ncf_read_options", "ncf_load_options", "ncf_cases", "ncf_dataset", "ncf_model_config",
           "ncf_table_view", "ncf_eval_config", "ncf_metrics", "ncf_epoch_report", "ncf_train_config",
           "ncf_train_result"]


def test_struct_layout_matches_headers(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler")
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "ncf/ncf.h"', "int main(void) {"]
    for s in STRUCTS:
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (s, s))
        for name, _ in getattr(_lib, s)._fields_:
            lines.append('printf("%s.%s %%zu\\n", offsetof(%s, %s));' % (s, name, s, name))
    lines += ["return 0; }"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = str(tmp_path / "layout")
    subprocess.run([cc, "-std=c11", "-I", os.path.join(ROOT, "include"), str(src), "-o", exe], check=True)
    want = dict(line.split() for line in subprocess.run([exe], capture_output=True, text=True).stdout.splitlines())
    got = {}
    for s in STRUCTS:
        t = getattr(_lib, s)
        got[s] = str(ctypes.sizeof(t))
        for name, _ in t._fields_:
            got["%s.%s" % (s, name)] = str(getattr(t, name).offset)
    assert got == want


def test_every_declared_function_exists():
    assert _lib.missing == []
