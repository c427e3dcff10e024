"""The Pythonic API: factor arrays are views of the model's own storage,
library errors become ncf.Error with the library's message, a callback can
stop training, Ctrl-C stops it cleanly, datasets from arrays, scores."""
import ctypes
import gc
import os
import signal
import threading
import time

import numpy as np
import pytest

import ncf
from ncf import _lib
from conftest import run


@pytest.fixture(scope="module")
def data(synth):
    return ncf.Dataset.from_file(synth)


@pytest.fixture(scope="module")
def neumf(data):
    return ncf.train(data, epochs=1)


def table_address(model, name):
    v = _lib.ncf_table_view()
    assert _lib.lib.ncf_model_table(model._ptr, name.encode(), ctypes.byref(v)) == 0
    return ctypes.cast(v.data, ctypes.c_void_p).value, v.rows, v.dim, v.stride


# ---- views -------------------------------------------------------------------------------------

def test_factors_are_views_not_copies(neumf, data):
    for attr, name in (("user_factors", "gmf.user_embedding"), ("item_factors", "gmf.item_embedding"),
                       ("mlp_user_factors", "mlp.user_embedding"), ("mlp_item_factors", "mlp.item_embedding")):
        a = getattr(neumf, attr)
        addr, rows, dim, stride = table_address(neumf, name)
        assert a.__array_interface__["data"][0] == addr, attr  # the library's pointer, not a copy
        assert a.shape == (rows, dim)
        assert a.strides == (stride * 4, 4)
        assert a.dtype == np.float32
        assert not a.flags.writeable and not a.flags.owndata
        assert np.shares_memory(a, getattr(neumf, attr))  # two views, one storage
    assert neumf.user_factors.shape == (data.n_users, 8)
    assert neumf.mlp_item_factors.shape == (data.n_items, 32)
    with pytest.raises(ValueError):
        neumf.user_factors[0, 0] = 1.0


def test_view_keeps_model_alive(synth):
    m = ncf.train(ncf.Dataset.from_file(synth), model="gmf", epochs=1)
    a = m.item_factors
    before = a.copy()
    del m
    gc.collect()
    np.testing.assert_array_equal(a, before)  # the storage is still the model's, still alive


def test_mf_views_reproduce_scores(synth):
    """MF: s(u,i) - s(u,j) = b_i - b_j + <p_u, q_i - q_j>, from the views alone."""
    data = ncf.Dataset.from_file(synth)
    m = ncf.train(data, model="mf", factors=6, epochs=2, loss="bpr", neg=1, lr=0.01)
    P, Q, bi = m.user_factors, m.item_factors, m.item_bias
    assert P.shape == (data.n_users, 6) and bi.shape == (data.n_items,)
    users, items = m.users, m.items
    for u in (0, 5, 17):
        s = m.score(users[u], items)
        want = bi + Q.astype(np.float64) @ P[u].astype(np.float64)
        np.testing.assert_allclose(s - s[0], want - want[0], atol=1e-4)
    with pytest.raises(ncf.Error, match="no mlp user factors"):
        m.mlp_user_factors


# ---- errors ------------------------------------------------------------------------------------

def test_errors_carry_the_library_message(tmp_path, neumf):
    missing = str(tmp_path / "nope.ncf")
    with pytest.raises(ncf.Error) as e:
        ncf.Model.load(missing)
    assert missing in str(e.value) and e.value.status == -2 and e.value.status_name
    bad = tmp_path / "bad.ncf"
    bad.write_bytes(b"not a model file at all, just text" * 4)
    with pytest.raises(ncf.Error, match="magic"):
        ncf.Model.load(str(bad))
    broken = tmp_path / "broken.tsv"
    broken.write_text("u1\ti1\t5\t1\nu2\ti2\tfive\t2\n")
    with pytest.raises(ncf.Error, match=r"broken\.tsv.*(line )?2"):
        ncf.Dataset.from_file(str(broken))
    with pytest.raises(ncf.Error) as e:
        neumf.recommend("no-such-user")
    assert "no-such-user" in str(e.value) and e.value.status == -7
    with pytest.raises(ncf.Error, match="not in the model"):
        neumf.score(neumf.users[0], "no-such-item")
    with pytest.raises(ncf.Error):
        neumf.save(str(tmp_path / "no-dir" / "m.ncf"))


def test_bad_configuration_is_an_error(data):
    with pytest.raises(ncf.Error) as e:
        ncf.train(data, epochs=1, batch=0)
    assert str(e.value)  # the library's words, not an empty message
    with pytest.raises(ncf.Error):
        ncf.train(data, model="mlp", layers=(7, 4), epochs=1)  # an odd MLP input cannot split in two
    with pytest.raises(ValueError):
        ncf.train(data, model="transformer")


# ---- training control --------------------------------------------------------------------------

def test_callback_stops_training(data):
    seen = []

    def cb(report):
        seen.append(report)
        return report["epoch"] == 2

    m = ncf.train(data, model="gmf", epochs=10, callback=cb)
    assert [r["epoch"] for r in seen] == [1, 2]
    assert m.stopped and not m.interrupted and len(m.history) == 2
    assert m.result["epochs_run"] == 2
    r = seen[0]
    assert {"epoch", "loss", "hr", "ndcg", "hr@10", "ndcg@10", "train_seconds"} <= set(r)
    assert 0.0 <= r["hr@10"] <= 1.0 and r["loss"] > 0


def test_callback_stop_iteration_and_errors(data):
    def stop(report):
        raise StopIteration

    m = ncf.train(data, model="gmf", epochs=5, callback=stop)
    assert len(m.history) == 1 and m.stopped

    def boom(report):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        ncf.train(data, model="gmf", epochs=5, callback=boom)


def test_history_has_validation_and_early_stop(synth):
    data = ncf.Dataset.from_file(synth, validation=True)
    assert data.n_valid > 0
    m = ncf.train(data, model="gmf", epochs=30, early_stop=2, lr=0.05)
    assert "valid_hr@10" in m.history[0]
    assert "selected_epoch" in m.result and "stopped_early" in m.result


def test_keyboard_interrupt_stops_cleanly(tmp_path, ncf_bin):
    """SIGINT while training: train returns the model at that point, usable."""
    path = str(tmp_path / "big.tsv")
    run([ncf_bin, "synth", "--out", path, "--users", "2000", "--items", "1500", "--interactions", "150000"])
    data = ncf.Dataset.from_file(path)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        m = ncf.train(data, model="neumf", epochs=200)
    finally:
        timer.cancel()
    assert m.interrupted and not m.stopped and len(m.history) < 200
    assert time.monotonic() - t0 < 60
    items, scores = m.recommend(data.users[0], k=5)  # the model is usable
    assert len(items) == 5 and np.isfinite(scores).all()


# ---- data from arrays, scoring -----------------------------------------------------------------

def test_from_arrays_equals_file(tmp_path, synth):
    rows = [line.split("\t") for line in open(synth).read().splitlines()]
    users = [r[0] for r in rows]
    items = np.array([r[1] for r in rows])
    times = np.array([int(r[3]) for r in rows], dtype=np.int64)
    a = ncf.Dataset.from_arrays(users, items, times)
    f = ncf.Dataset.from_file(synth)
    assert (a.n_users, a.n_items, a.n_train, a.n_test) == (f.n_users, f.n_items, f.n_train, f.n_test)
    assert a.users == f.users and a.items == f.items
    ma = ncf.train(a, model="gmf", epochs=1)
    mf = ncf.train(f, model="gmf", epochs=1)
    np.testing.assert_array_equal(ma.user_factors, mf.user_factors)
    assert ma.history[0]["hr@10"] == mf.history[0]["hr@10"]


def test_from_arrays_any_hashable():
    users = np.array([1, 1, 1, 2, 2, 2, 3, 3, 3, 3])
    items = [10, 11, 12, 10, 12, 13, 11, 13, 14, 10]
    d = ncf.Dataset.from_arrays(users, items, negatives=2)
    assert d.users == ["1", "2", "3"] and d.n_test == 3
    m = ncf.train(d, model="gmf", factors=4, epochs=1)
    items_1, _ = m.recommend(1, k=5)
    assert sorted(items_1) == ["12", "13", "14"]  # never 10 or 11, which user 1 trained on
    both, sc = m.recommend([1, np.int64(2)], k=4)
    assert both.shape == (2, 4) and sc.shape == (2, 4)
    assert np.isnan(sc[0, 3]) and both[0, 3] is None  # user 1 has only 3 candidates
    with pytest.raises(ValueError):
        ncf.Dataset.from_arrays(["a\tb"], ["x"])


def test_from_pandas_columns():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"user": ["a", "a", "a", "b", "b", "b"], "item": ["x", "y", "z", "x", "w", "y"]})
    d = ncf.Dataset.from_arrays(df["user"], df["item"], negatives=1)
    assert d.users == ["a", "b"] and d.n_train == 4


def test_score_and_recommend_agree(neumf, data):
    u = data.users[3]
    items, scores = neumf.recommend(u, k=10)
    np.testing.assert_allclose(neumf.score(u, items), scores, rtol=1e-5)  # another summation order
    assert isinstance(neumf.score(u, items[0]), float)
    every, every_scores = neumf.recommend(u, k=data.n_items, exclude_seen=False)
    assert len(every) == data.n_items and np.all(np.diff(every_scores) <= 0)
    np.testing.assert_allclose(neumf.score([u, u], [items[0], items[1]]), scores[:2], rtol=1e-5)


def test_model_description(neumf, data):
    assert neumf.type == "neumf" and neumf.n_users == data.n_users
    assert neumf.meta["model"] == "neumf" and neumf.meta["seed"] == "1"
    assert neumf.config["hidden"] == [32, 16, 8]
    assert "neumf" in repr(neumf) and ncf.version() == "0.1.0"
