"""The binding gives the CLI's results: the same model bytes from
Model.save as from `ncf train --out` (same data, options, seed), the same
top-K as `ncf recommend`, the same metrics as `ncf eval`, the same files as
`ncf split`."""
import filecmp
import json
import os

import pytest

import ncf
from conftest import run


def cli_recommend(ncf_bin, model_path, user, k):
    out = run([ncf_bin, "recommend", "--model", model_path, "--user", user, "-k", str(k)])
    rows = [line.split("\t") for line in out.splitlines()]
    return [r[1] for r in rows], [float(r[2]) for r in rows]


@pytest.mark.parametrize("kind,extra", [
    ("neumf", {}),
    ("gmf", {}),
    ("mf", {"loss": "bpr", "neg": 1, "lr": 0.01}),
])
def test_same_model_bytes_and_topk(tmp_path, ncf_bin, synth, kind, extra):
    cli_path = str(tmp_path / "cli.ncf")
    py_path = str(tmp_path / "py.ncf")
    args = [ncf_bin, "train", "--data", synth, "--model", kind, "--epochs", "3", "--seed", "5", "--quiet",
            "--out", cli_path]
    for key, v in extra.items():
        args += ["--" + key, str(v)]
    run(args)
    data = ncf.Dataset.from_file(synth, seed=5)
    m = ncf.train(data, model=kind, epochs=3, seed=5, **extra)
    m.save(py_path)
    assert filecmp.cmp(cli_path, py_path, shallow=False), "Model.save differs from ncf train --out"
    assert len(m.history) == 3 and m.result["epochs_run"] == 3
    # top-K equals ncf recommend's, items and printed scores
    loaded = ncf.Model.load(cli_path)
    for user in data.users[:5] + data.users[-3:]:
        items, scores = cli_recommend(ncf_bin, cli_path, user, 10)
        got_items, got_scores = loaded.recommend(user, k=10)
        assert list(got_items) == items
        assert ["%.6f" % s for s in got_scores] == ["%.6f" % s for s in scores]
        assert list(m.recommend(user, k=10)[0]) == items


def test_eval_equals_cli(tmp_path, ncf_bin, synth):
    path = str(tmp_path / "m.ncf")
    run([ncf_bin, "train", "--data", synth, "--model", "gmf", "--epochs", "2", "--quiet", "--out", path])
    cli = json.loads(run([ncf_bin, "eval", "--model", path, "--data", synth, "--topk", "5,10", "--json"]))
    got = ncf.Model.load(path).evaluate(ncf.Dataset.from_file(synth), k=[5, 10])
    for key in ("hr", "ndcg", "hr@5", "ndcg@10", "mrr@10", "precision@5"):
        assert "%.6f" % got[key] == "%.6f" % cli[key], key
    assert got["cases"] == cli["cases"]
    full = json.loads(run([ncf_bin, "eval", "--model", path, "--data", synth, "--eval", "full", "--topk", "20",
                           "--json"]))
    gfull = ncf.Model.load(path).evaluate(ncf.Dataset.from_file(synth, negatives=0), k=20, mode="full")
    assert "%.6f" % gfull["recall@20"] == "%.6f" % full["recall@20"]


def test_shared_data_same_bytes(tmp_path, ncf_bin, ml1m_half):
    """One epoch of NeuMF on the shared MovieLens split, binding against CLI."""
    cli_path = str(tmp_path / "cli.ncf")
    out = run([ncf_bin, "train", "--data", ml1m_half, "--epochs", "1", "--quiet", "--json", "--out", cli_path])
    first = json.loads(out.splitlines()[0])
    data = ncf.Dataset.from_file(ml1m_half)
    m = ncf.train(data, epochs=1)
    m.save(str(tmp_path / "py.ncf"))
    assert filecmp.cmp(cli_path, str(tmp_path / "py.ncf"), shallow=False)
    assert "%.6f" % m.history[0]["hr@10"] == "%.6f" % first["hr@10"]
    assert "%.6f" % m.history[0]["loss"] == "%.6f" % first["loss"]
    items, _ = cli_recommend(ncf_bin, cli_path, "42", 10)
    assert list(m.recommend("42", k=10)[0]) == items
    assert list(m.recommend(42, k=10)[0]) == items  # any hashable raw id: str(42)


def test_split_equals_cli(tmp_path, ncf_bin, synth):
    run([ncf_bin, "split", synth, "--out", str(tmp_path / "cli"), "--negatives", "20", "--validation"])
    ncf.split(synth, str(tmp_path / "py"), negatives=20, validation=True)
    for ext in ("train.rating", "test.rating", "test.negative", "valid.rating", "valid.negative", "user.map",
                "item.map"):
        assert filecmp.cmp(str(tmp_path / ("cli." + ext)), str(tmp_path / ("py." + ext)), shallow=False), ext
    ds = ncf.Dataset.from_file(str(tmp_path / "py"))
    assert ds.n_valid > 0 and ds.n_test > 0


def test_full_ranking_same_bytes(tmp_path, ncf_bin, synth):
    """Full-ranking training: the CLI draws no negatives; negatives=0 here."""
    cli_path = str(tmp_path / "cli.ncf")
    run([ncf_bin, "train", "--data", synth, "--model", "gmf", "--epochs", "2", "--eval", "full", "--topk", "20,5",
         "--quiet", "--out", cli_path])
    m = ncf.train(ncf.Dataset.from_file(synth, negatives=0), model="gmf", epochs=2, eval="full", topk=(20, 5))
    m.save(str(tmp_path / "py.ncf"))
    assert filecmp.cmp(cli_path, str(tmp_path / "py.ncf"), shallow=False)
    assert {"recall@20", "ndcg@5", "mrr@5"} <= set(m.history[0])
