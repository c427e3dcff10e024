"""ncf.plot draws loss and metrics per epoch from a Model's history and from
`ncf train --json` files, and `python3 -m ncf.plot` writes the image."""
import os
import subprocess
import sys

import pytest

import ncf
from conftest import ROOT, run

pytest.importorskip("matplotlib")
import ncf.plot  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def test_history_of_models(tmp_path, synth):
    data = ncf.Dataset.from_file(synth)
    runs = {"NeuMF": ncf.train(data, epochs=3), "GMF": ncf.train(data, model="gmf", epochs=3)}
    out = str(tmp_path / "h.png")
    fig = ncf.plot.history(runs, out, title="synthetic")
    assert open(out, "rb").read(8) == PNG and os.path.getsize(out) > 10000
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["training loss", "HR@10", "NDCG@10"]
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["NeuMF", "GMF"]
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [1, 2, 3]


def test_module_command_on_cli_runs(tmp_path, ncf_bin, synth):
    runs = []
    for model in ("gmf", "mlp"):
        path = str(tmp_path / (model + ".jsonl"))
        with open(path, "w") as f:
            f.write(run([ncf_bin, "train", "--data", synth, "--model", model, "--epochs", "3", "--json",
                         "--quiet", "--topk", "5,10"]))
        runs.append(path)
    rows = ncf.plot.read_jsonl(runs[0])
    assert [r["epoch"] for r in rows] == [1, 2, 3]  # the summary object is not an epoch
    out = str(tmp_path / "curves.png")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "python"))
    p = subprocess.run([sys.executable, "-m", "ncf.plot", *runs, "-o", out, "--metrics", "hr@5,ndcg@10"],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert open(out, "rb").read(8) == PNG
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    p = subprocess.run([sys.executable, "-m", "ncf.plot", str(bad), "-o", out], capture_output=True, text=True,
                       env=env)
    assert p.returncode == 1 and "bad.jsonl:1" in p.stderr
