"""ncf — Neural Collaborative Filtering (GMF, MLP, NeuMF, MF) from Python.

A ctypes binding over libncf.so (no compiled extension): the library trains,
evaluates and recommends; this package turns its calls into Python objects
and its errors into ncf.Error. docs/python.md has the whole story.

    import ncf
    data = ncf.Dataset.from_file("ml-1m")               # NCF prefix or one interactions file
    model = ncf.train(data, model="neumf", epochs=20)   # per-epoch history in model.history
    model.evaluate(data)                                # {'hr@10': ..., 'ndcg@10': ...}
    items, scores = model.recommend("42", k=10)         # raw ids in, arrays out
    model.user_factors                                  # a NumPy view of the model's own table
    model.save("neumf.ncf")

The library is found through NCF_LIBRARY, next to this package, in the
checkout's build/ directory, or on the system's library path (make install).
"""
import ctypes
import concurrent.futures
import math
import os
import tempfile
import threading

from . import _lib
from ._lib import lib

__all__ = ["Error", "Dataset", "Model", "train", "split", "version", "library_path"]

#: The path libncf was loaded from.
library_path = _lib.path

_MODELS = ("gmf", "mlp", "neumf", "mf")
_PRESETS = ("paper", "seed")
_LOSSES = ("bce", "pair-bce", "bpr")
_OPTIMIZERS = ("adam", "sgd", "adagrad", "rmsprop")
_ROWS = {"dense": 0, "lazy": 1}
_SCHEDULES = ("constant", "step", "linear")
_EVAL = ("sampled", "full")
_FORMATS = ("auto", "ncf", "delimited", "lists")
_METRICS = ("hr", "recall", "precision", "ndcg", "mrr")


def version():
    """The library's version string."""
    return lib.ncf_version().decode()


class Error(Exception):
    """An error reported by libncf: str(e) is the library's message, e.status
    its ncf_status code (negative), e.status_name its name."""

    def __init__(self, message, status=-5):
        super().__init__(message)
        self.message = message
        self.status = status
        self.status_name = lib.ncf_status_str(status).decode()

    def __str__(self):
        return self.message


def _check(status, err=None, what=None):
    if status == _lib.NCF_OK:
        return
    msg = err.msg.decode("utf-8", "replace") if err is not None else ""
    if not msg:
        msg = lib.ncf_status_str(status).decode()
    if what:
        msg = "%s: %s" % (what, msg)
    raise Error(msg, status)


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError("%s must be one of %s, got %r" % (name, ", ".join(choices), value))
    return choices.index(value)


def _enc(s):
    return os.fsencode(s) if not isinstance(s, bytes) else s


def _ids(x):
    """A sequence of raw ids (any hashable: str, int, NumPy scalars, a pandas
    Series) as a list of str, and whether x was one id rather than several."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        return [_raw(x)], True
    if hasattr(x, "ndim") and getattr(x, "ndim") == 0:
        return [_raw(x.item())], True
    return [_raw(v) for v in x], False


def _raw(v):
    if isinstance(v, bytes):
        return v.decode()
    if hasattr(v, "item") and not isinstance(v, str):  # NumPy scalar
        v = v.item()
    return str(v)


# ---- data ----------------------------------------------------------------------------------------

def _read_options(opt, fmt, sep, header, user_col, item_col, rating_col, time_col, min_rating, keep):
    lib.ncf_read_options_default(ctypes.byref(opt))
    opt.format = _choice("format", fmt, _FORMATS)
    if sep is not None:
        b = sep.encode()
        keep.append(b)
        opt.sep = b
    opt.header = -1 if header is None else (1 if header else 0)
    opt.user_col = user_col
    opt.item_col = item_col
    opt.rating_col = -2 if rating_col is None else rating_col
    opt.time_col = -2 if time_col is None else time_col
    if min_rating is not None:
        opt.use_min_rating = 1
        opt.min_rating = float(min_rating)


class Dataset:
    """Training positives and held-out test (and validation) cases, as libncf
    loads them. Build one with Dataset.from_file or Dataset.from_arrays."""

    def __init__(self, _ptr, path, negatives, seed):
        self._ptr = _ptr
        self.path = path          #: what it was loaded from (None for arrays)
        self.negatives = negatives  #: test negatives drawn per case when the data lists none
        self.seed = seed          #: the seed of those draws

    @classmethod
    def from_file(cls, path, *, format="auto", sep=None, header=None, user_col=0, item_col=1,
                  rating_col=None, time_col=None, min_rating=None, negatives=99, seed=1,
                  validation=False, test=None):
        """Loads an NCF prefix (PREFIX.train.rating, .test.rating, .test.negative) or
        one interactions file (MovieLens ratings.dat, u.data, a CSV, any delimited
        file, LightGCN lists), split leave-one-out in memory.

        format: "auto", "ncf", "delimited" or "lists"; sep: the field separator
        (None: guessed); header: None (guess), True or False; user_col, item_col,
        rating_col, time_col: 0-based columns (rating_col/time_col None: guessed,
        -1: none); min_rating: keep interactions rated >= it; negatives: test
        negatives drawn per case when the data lists none, with seed; validation:
        hold out a validation case per user too; test: a separate test file (the
        data file is then all training). As `ncf train --data`'s options."""
        lo = _lib.ncf_load_options()
        lib.ncf_load_options_default(ctypes.byref(lo))
        keep = []
        _read_options(lo.read, format, sep, header, user_col, item_col, rating_col, time_col, min_rating, keep)
        lo.n_negatives = int(negatives)
        lo.seed = int(seed)
        lo.validation = 1 if validation else 0
        if test is not None:
            tb = _enc(test)
            keep.append(tb)
            lo.test_path = tb
        ptr = ctypes.POINTER(_lib.ncf_dataset)()
        err = _lib.ncf_err()
        _check(lib.ncf_dataset_load(_enc(path), ctypes.byref(lo), ctypes.byref(ptr), ctypes.byref(err)), err)
        return cls(ptr, os.fspath(path), int(negatives), int(seed))

    @classmethod
    def from_arrays(cls, users, items, times=None, *, negatives=99, seed=1, validation=False):
        """A dataset from parallel sequences of raw user and item ids (lists, NumPy
        arrays, pandas columns: any hashable values, taken as str(value)), one
        interaction each, optionally with timestamps. Split leave-one-out as a
        file would be: each user's latest interaction (by time, else the last
        in order) is the test case. Goes through the library's own reader (a
        temporary tab-separated file), so ids must not hold tabs or newlines."""
        u, _ = _ids(users)
        i, _ = _ids(items)
        if len(u) != len(i):
            raise ValueError("users and items differ in length (%d, %d)" % (len(u), len(i)))
        t = None
        if times is not None:
            t = [int(v) for v in times]
            if len(t) != len(u):
                raise ValueError("times and users differ in length (%d, %d)" % (len(t), len(u)))
        for v in (u, i):
            for s in v:
                if "\t" in s or "\n" in s or "\r" in s:
                    raise ValueError("raw id %r holds a tab or a newline" % s)
        fd, tmp = tempfile.mkstemp(prefix="ncf-", suffix=".tsv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                if t is None:
                    f.writelines("%s\t%s\n" % p for p in zip(u, i))
                else:
                    f.writelines("%s\t%s\t1\t%d\n" % p for p in zip(u, i, t))
            ds = cls.from_file(tmp, format="delimited", sep="\t", header=False,
                               rating_col=-1 if t is None else 2, time_col=-1 if t is None else 3,
                               negatives=negatives, seed=seed, validation=validation)
        finally:
            os.unlink(tmp)
        ds.path = None
        return ds

    def __del__(self):
        p, self._ptr = getattr(self, "_ptr", None), None
        if p and _lib is not None and lib is not None:
            lib.ncf_dataset_free(p)

    @property
    def n_users(self):
        return self._ptr.contents.n_users

    @property
    def n_items(self):
        return self._ptr.contents.n_items

    @property
    def n_train(self):
        """Training positives."""
        return self._ptr.contents.n_train

    @property
    def n_test(self):
        return self._ptr.contents.test.n

    @property
    def n_valid(self):
        return self._ptr.contents.valid.n

    @property
    def users(self):
        """Raw user ids in index order."""
        return _idmap_list(self._ptr.contents.user_ids)

    @property
    def items(self):
        """Raw item ids in index order."""
        return _idmap_list(self._ptr.contents.item_ids)

    def __repr__(self):
        return "<ncf.Dataset %s: %d users, %d items, %d training, %d test, %d validation>" % (
            self.path or "(arrays)", self.n_users, self.n_items, self.n_train, self.n_test, self.n_valid)


def _idmap_list(m):
    n = lib.ncf_idmap_size(m)
    return [lib.ncf_idmap_raw(m, k).decode() for k in range(n)]


def split(path, out, *, negatives=99, validation=False, seed=1, format="auto", sep=None, header=None,
          user_col=0, item_col=1, rating_col=None, time_col=None, min_rating=None):
    """Splits an interactions file leave-one-out and writes it in the NCF format
    (out.train.rating, .test.rating, .test.negative, .user.map, .item.map; with
    validation .valid.rating, .valid.negative), as `ncf split` does. Returns out."""
    opt = _lib.ncf_read_options()
    keep = []
    _read_options(opt, format, sep, header, user_col, item_col, rating_col, time_col, min_rating, keep)
    x = ctypes.c_void_p()
    err = _lib.ncf_err()
    _check(lib.ncf_interactions_read(_enc(path), ctypes.byref(opt), ctypes.byref(x), ctypes.byref(err)), err)
    try:
        _check(lib.ncf_split_write(x, _enc(out), int(negatives), 1 if validation else 0, int(seed),
                                   ctypes.byref(err)), err)
    finally:
        lib.ncf_interactions_free(x)
    return out


# ---- model ---------------------------------------------------------------------------------------

def _metrics_dict(m, prefix=""):
    d = {}
    for j in range(m.n_k):
        for q in range(_lib.NCF_METRICS):
            d["%s%s@%d" % (prefix, _METRICS[q], m.k[j])] = m.at[j][q]
    return d


def _report_dict(r):
    d = {"epoch": r.epoch, "loss": r.loss,
         "hr": r.test.hr if r.test.n_cases else math.nan, "ndcg": r.test.ndcg if r.test.n_cases else math.nan}
    if r.test.n_cases:
        d.update(_metrics_dict(r.test))
    if r.valid.n_cases:
        d.update(_metrics_dict(r.valid, "valid_"))
    d["train_seconds"] = r.train_seconds
    d["eval_seconds"] = r.eval_seconds
    d["samples_per_second"] = r.samples / r.train_seconds if r.train_seconds > 0 else 0.0
    return d


_TABLES = {
    "user_factors": ("gmf.user_embedding", "mf.user_embedding"),
    "item_factors": ("gmf.item_embedding", "mf.item_embedding"),
    "mlp_user_factors": ("mlp.user_embedding",),
    "mlp_item_factors": ("mlp.item_embedding",),
    "user_bias": ("mf.user_bias",),
    "item_bias": ("mf.item_bias",),
}


class Model:
    """A trained GMF, MLP, NeuMF or MF model with its raw-id maps and the
    users' training items (never recommended back). From ncf.train or
    Model.load. Inference methods may be called from several threads."""

    def __init__(self, _ptr):
        self._ptr = _ptr          # ncf_model *, freed with the object
        self._scorer = None
        self._scorer_lock = threading.Lock()
        self.history = []         #: per-epoch reports of the training that made it (dicts)
        self.result = None        #: the run's summary (best/final/selected metrics), a dict
        self.interrupted = False  #: training was stopped by KeyboardInterrupt
        self.stopped = False      #: the callback stopped training

    @classmethod
    def load(cls, path):
        """Loads and validates a model file (docs/model-file.md)."""
        p = ctypes.c_void_p()
        err = _lib.ncf_err()
        _check(lib.ncf_model_load(_enc(path), ctypes.byref(p), ctypes.byref(err)), err)
        return cls(p)

    def save(self, path):
        """Writes the model file atomically (the same bytes `ncf train --out` writes
        for the same data, options and seed)."""
        err = _lib.ncf_err()
        _check(lib.ncf_model_save(self._ptr, _enc(path), ctypes.byref(err)), err)

    def __del__(self):
        s, self._scorer = getattr(self, "_scorer", None), None
        p, self._ptr = getattr(self, "_ptr", None), None
        if lib is None:
            return
        if s:
            lib.ncf_scorer_free(s)
        if p:
            lib.ncf_model_free(p)

    # ---- description
    @property
    def config(self):
        c = lib.ncf_model_get_config(self._ptr).contents
        return {"model": _MODELS[c.type], "n_users": c.n_users, "n_items": c.n_items, "factors": c.factors,
                "mlp_embed": c.mlp_embed, "hidden": list(c.hidden[:c.n_hidden]),
                "gmf_activation": ("identity", "sigmoid")[c.gmf_activation], "dropout": c.dropout}

    @property
    def type(self):
        return _MODELS[lib.ncf_model_get_config(self._ptr).contents.type]

    @property
    def n_users(self):
        return lib.ncf_model_get_config(self._ptr).contents.n_users

    @property
    def n_items(self):
        return lib.ncf_model_get_config(self._ptr).contents.n_items

    @property
    def param_count(self):
        return lib.ncf_model_param_count(self._ptr)

    @property
    def meta(self):
        """The metadata stored in the file (training settings, metrics) as a dict of str."""
        text = lib.ncf_model_meta(self._ptr).decode()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    @property
    def users(self):
        """Raw user ids in index order (row r of user_factors is users[r])."""
        return _idmap_list(lib.ncf_model_users(self._ptr))

    @property
    def items(self):
        """Raw item ids in index order (row r of item_factors is items[r])."""
        return _idmap_list(lib.ncf_model_items(self._ptr))

    def __repr__(self):
        return "<ncf.Model %s: %d users, %d items, %d parameters>" % (
            self.type, self.n_users, self.n_items, self.param_count)

    # ---- the tables as NumPy views
    def table(self, name):
        """The table `name` ("gmf.user_embedding", "mlp.item_embedding",
        "mf.user_bias", ...) as a read-only NumPy float32 array that is a view
        of the model's own storage, not a copy (rows x dim; 1-D for biases).
        The array keeps the model alive. Raises ncf.Error when the model has
        no such table."""
        import numpy as np
        v = _lib.ncf_table_view()
        st = lib.ncf_model_table(self._ptr, name.encode(), ctypes.byref(v))
        _check(st, None, "%s model has no table %r" % (self.type, name) if st == _lib.NCF_ERR_NOT_FOUND else name)
        addr = ctypes.cast(v.data, ctypes.c_void_p).value
        buf = (ctypes.c_float * (v.rows * v.stride)).from_address(addr)
        buf._ncf_owner = self  # the storage lives as long as the model: the array keeps buf, buf keeps self
        a = np.frombuffer(buf, dtype=np.float32).reshape(v.rows, v.stride)[:, :v.dim]
        if v.dim == 1 and name.endswith("_bias"):
            a = a[:, 0]
        a.flags.writeable = False
        return a

    def _table_of(self, attr):
        for name in _TABLES[attr]:
            v = _lib.ncf_table_view()
            if lib.ncf_model_table(self._ptr, name.encode(), ctypes.byref(v)) == _lib.NCF_OK:
                return self.table(name)
        raise Error("%s model has no %s" % (self.type, attr.replace("_", " ")), _lib.NCF_ERR_NOT_FOUND)

    user_factors = property(lambda self: self._table_of("user_factors"),
                            doc="GMF (or MF) user embeddings, n_users x factors, a read-only view.")
    item_factors = property(lambda self: self._table_of("item_factors"),
                            doc="GMF (or MF) item embeddings, n_items x factors, a read-only view.")
    mlp_user_factors = property(lambda self: self._table_of("mlp_user_factors"),
                                doc="MLP user embeddings (MLP, NeuMF), a read-only view.")
    mlp_item_factors = property(lambda self: self._table_of("mlp_item_factors"),
                                doc="MLP item embeddings (MLP, NeuMF), a read-only view.")
    user_bias = property(lambda self: self._table_of("user_bias"), doc="MF user biases, a read-only view.")
    item_bias = property(lambda self: self._table_of("item_bias"), doc="MF item biases, a read-only view.")

    # ---- inference
    def _scorer_ptr(self):
        """The model's scorer (item halves of the first layer, popularity),
        made on first use and kept: thread-safe, read-only like the model."""
        with self._scorer_lock:
            if self._scorer is None:
                s = ctypes.c_void_p()
                err = _lib.ncf_err()
                _check(lib.ncf_scorer_create(self._ptr, 1, ctypes.byref(s), ctypes.byref(err)), err)
                self._scorer = s
            return self._scorer

    def _index(self, kind, raw):
        m = lib.ncf_model_users(self._ptr) if kind == "user" else lib.ncf_model_items(self._ptr)
        if not m:
            raise Error("the model has no id maps", _lib.NCF_ERR_NOT_FOUND)
        b = raw.encode()
        k = lib.ncf_idmap_find(m, b, len(b))
        if k < 0:
            raise Error("%s '%s' is not in the model (%d %ss known)" % (kind, raw, lib.ncf_idmap_size(m), kind),
                        _lib.NCF_ERR_NOT_FOUND)
        return k

    def _item_names(self):
        """The items' raw ids as a NumPy array of str, by index (made once)."""
        import numpy as np
        if getattr(self, "_names", None) is None:
            imap = lib.ncf_model_items(self._ptr)
            self._names = np.array([lib.ncf_idmap_raw(imap, i).decode() for i in range(self.n_items)], dtype=object)
        return self._names

    def recommend(self, users, k=10, exclude_seen=True):
        """The top-k items by score (logit) for one user or for each of several
        (raw ids; ties go to the lower item index), as `ncf recommend`.

        exclude_seen: leave out the user's training items (the library's rule);
        False ranks every item. Returns (items, scores): for one user arrays of
        shape (n,) with n <= k (str item ids, float32 scores); for several,
        arrays of shape (len(users), k), padded with None and NaN when a user
        has fewer than k candidates. Unknown users raise ncf.Error."""
        import numpy as np
        ids, single = _ids(users)
        k = int(k)
        if k < 1:
            raise ValueError("k must be >= 1")
        s = self._scorer_ptr()
        imap = lib.ncf_model_items(self._ptr)
        n_items = self.n_items
        kk = min(k, n_items)
        out_items = np.full((len(ids), k), None, dtype=object)
        out_scores = np.full((len(ids), k), np.nan, dtype=np.float32)
        if exclude_seen:  # every user at once, in the library's threads
            us = np.array([self._index("user", raw) for raw in ids], dtype=np.int32)
            it = np.empty((len(ids), max(kk, 1)), dtype=np.int32)
            sc = np.empty((len(ids), max(kk, 1)), dtype=np.float32)
            cnt = np.zeros(len(ids), dtype=np.intc)
            P = ctypes.POINTER
            _check(lib.ncf_scorer_recommend_many(s, us.ctypes.data_as(P(ctypes.c_int32)), len(ids), kk, 0,
                                                 it.ctypes.data_as(P(ctypes.c_int32)),
                                                 sc.ctypes.data_as(P(ctypes.c_float)),
                                                 cnt.ctypes.data_as(P(ctypes.c_int))), None, "recommend")
            names = self._item_names()
            for r in range(len(ids)):
                c = int(cnt[r])
                out_items[r, :c] = names[it[r, :c]]
                out_scores[r, :c] = sc[r, :c]
            counts = cnt.tolist()
        else:
            counts = []
            all_items = (ctypes.c_int32 * n_items)(*range(n_items))
            all_scores = np.empty(n_items, dtype=np.float32)
            for r, raw in enumerate(ids):
                u = self._index("user", raw)
                _check(lib.ncf_scorer_score(s, u, all_items, n_items,
                                            all_scores.ctypes.data_as(ctypes.POINTER(ctypes.c_float))),
                       None, "score")
                order = np.argsort(-all_scores, kind="stable")[:kk]
                for q, i in enumerate(order.tolist()):
                    out_items[r, q] = lib.ncf_idmap_raw(imap, i).decode()
                out_scores[r, :len(order)] = all_scores[order]
                counts.append(len(order))
        if single:
            c = counts[0]
            return out_items[0, :c].astype(str) if c else np.array([], dtype=str), out_scores[0, :c]
        return out_items, out_scores

    def score(self, users, items):
        """Scores (logits, float32) of (user, item) pairs by raw id: users and
        items of the same length, or one user and many items (or the reverse).
        A single pair gives a float."""
        import numpy as np
        us, u1 = _ids(users)
        its, i1 = _ids(items)
        if len(us) == 1 and len(its) != 1:
            us = us * len(its)
        elif len(its) == 1 and len(us) != 1:
            its = its * len(us)
        if len(us) != len(its):
            raise ValueError("users and items differ in length (%d, %d)" % (len(us), len(its)))
        uidx = np.array([self._index("user", x) for x in us], dtype=np.int32)
        iidx = np.array([self._index("item", x) for x in its], dtype=np.int32)
        out = np.empty(len(us), dtype=np.float32)
        s = self._scorer_ptr()
        for u in np.unique(uidx):
            sel = np.nonzero(uidx == u)[0]
            its_u = np.ascontiguousarray(iidx[sel])
            sc = np.empty(len(sel), dtype=np.float32)
            _check(lib.ncf_scorer_score(s, int(u), its_u.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), len(sel),
                                        sc.ctypes.data_as(ctypes.POINTER(ctypes.c_float))), None, "score")
            out[sel] = sc
        if u1 and i1:
            return float(out[0])
        return out

    def evaluate(self, data, k=10, mode="sampled", cases="test", threads=0):
        """Evaluates on a Dataset's test (or, cases="valid", validation) cases:
        mode "sampled" (each held-out item against its negatives; NCF paper) or
        "full" (against every item the user did not train on); k one cutoff or
        several. The data is expressed in the model's ids first (cases whose user
        or item the model lacks are skipped and counted). Returns a dict: "hr",
        "ndcg" at the first cutoff, "hr@K", "recall@K", "precision@K", "ndcg@K",
        "mrr@K" for each K, "cases", "skipped"."""
        if not isinstance(data, Dataset):
            data = Dataset.from_file(data)
        ks = [int(k)] if not hasattr(k, "__iter__") else [int(x) for x in k]
        ec = _lib.ncf_eval_config()
        ec.mode = _choice("mode", mode, _EVAL)
        ec.n_k = len(ks)
        if not 1 <= len(ks) <= _lib.NCF_MAX_TOPK:
            raise ValueError("1 to %d cutoffs" % _lib.NCF_MAX_TOPK)
        for j, v in enumerate(ks):
            ec.k[j] = v
        err = _lib.ncf_err()
        _check(lib.ncf_eval_config_check(ctypes.byref(ec), ctypes.byref(err)), err)
        ds = ctypes.POINTER(_lib.ncf_dataset)()
        dropped = ctypes.c_int32()
        _check(lib.ncf_dataset_remap(data._ptr, lib.ncf_model_users(self._ptr), lib.ncf_model_items(self._ptr),
                                     ctypes.byref(ds), ctypes.byref(dropped), ctypes.byref(err)), err)
        try:
            c = _choice("cases", cases, ("test", "valid"))
            which = ds.contents.test if c == 0 else ds.contents.valid
            mt = _lib.ncf_metrics()
            _check(lib.ncf_evaluate_cases(self._ptr, ds, ctypes.byref(which), ctypes.byref(ec), int(threads),
                                          ctypes.byref(mt), ctypes.byref(err)), err)
        finally:
            lib.ncf_dataset_free(ds)
        d = {"hr": mt.hr, "ndcg": mt.ndcg}
        d.update(_metrics_dict(mt))
        d["cases"] = mt.n_cases
        d["skipped"] = dropped.value
        return d


# ---- training ------------------------------------------------------------------------------------

def _wait(fut, interruptible=True):
    """The future's result, waiting in short slices so that Ctrl-C (which Python
    delivers to the main thread between bytecodes) is seen promptly."""
    while True:
        try:
            return fut.result(timeout=0.1)
        except concurrent.futures.TimeoutError:
            continue
        except KeyboardInterrupt:
            if interruptible:
                raise


def train(data, model="neumf", factors=8, layers=(64, 32, 16, 8), epochs=20, *, batch=256, lr=0.001,
          neg=None, loss=None, optimizer="adam", rows="dense", reg=None, reg_layers=0.0, momentum=0.0,
          preset="paper", gmf_activation=None, dropout=None, init_std=None, lr_schedule="constant",
          lr_step=10, lr_gamma=0.5, lr_end=0.0, topk=10, eval="sampled", eval_every=1, early_stop=0,
          threads=0, seed=1, callback=None):
    """Trains a model on a Dataset, one epoch at a time, and returns an ncf.Model
    (its history holds each epoch's report). The options and defaults are
    `ncf train`'s (docs/cli.md); the same data, options and seed give the same
    model bytes as `ncf train --out`.

    callback(report) is called after each epoch with a dict: epoch, loss, hr,
    ndcg (NaN when the epoch was not evaluated), every metric as "name@K"
    ("hr@10", "ndcg@10", ...; "valid_..." with validation cases), train_seconds,
    eval_seconds, samples_per_second. Returning True (or raising StopIteration)
    stops training after that epoch (model.stopped is then True). Any other
    exception from the callback ends training and propagates.

    Ctrl-C (KeyboardInterrupt) stops training after the current step, not
    only between epochs: train returns the model as it is then, with
    model.interrupted True, instead of raising.

    eval_every: evaluate every N epochs and after the last (0: only after the
    last). early_stop: with validation cases, stop after N evaluations without
    improvement and keep the best validation epoch's weights."""
    if not isinstance(data, Dataset):
        data = Dataset.from_file(data, seed=seed)
    mtype = _choice("model", model, _MODELS)
    pr = _choice("preset", preset, _PRESETS)
    layers = [int(x) for x in layers]
    if not 1 <= len(layers) <= _lib.NCF_MAX_HIDDEN + 1:
        raise ValueError("layers: 1 to %d widths" % (_lib.NCF_MAX_HIDDEN + 1))
    err = _lib.ncf_err()
    mc = _lib.ncf_model_config()
    larr = (ctypes.c_int32 * len(layers))(*layers)
    _check(lib.ncf_model_config_preset(pr, mtype, int(factors), larr, len(layers), ctypes.byref(mc),
                                       ctypes.byref(err)), err)
    tc = _lib.ncf_train_config()
    lib.ncf_train_config_default(ctypes.byref(tc))
    if pr == 1:  # the seed model's training, as ncf train --preset seed
        tc.loss = 1
        tc.neg = 1
        tc.reg = 1e-6
    if gmf_activation is not None:
        mc.gmf_activation = _choice("gmf_activation", gmf_activation, ("identity", "sigmoid"))
    if dropout is not None:
        mc.dropout = float(dropout)
    if init_std is not None:
        mc.init_std = float(init_std)
    if reg is not None:
        tc.reg = float(reg)
    tc.reg_layers = float(reg_layers)
    tc.momentum = float(momentum)
    tc.schedule = _choice("lr_schedule", lr_schedule, _SCHEDULES)
    tc.lr_step = int(lr_step)
    tc.lr_gamma = float(lr_gamma)
    tc.lr_end = float(lr_end)
    if neg is not None:
        tc.neg = int(neg)
    if loss is not None:
        tc.loss = _choice("loss", loss, _LOSSES)
    tc.epochs = int(epochs)
    tc.batch = int(batch)
    tc.lr = float(lr)
    tc.optimizer = _choice("optimizer", optimizer, _OPTIMIZERS)
    if rows not in _ROWS:
        raise ValueError("rows must be dense or lazy, got %r" % (rows,))
    tc.adam_mode = _ROWS[rows]
    tc.threads = int(threads)
    tc.seed = int(seed)
    ks = [int(topk)] if not hasattr(topk, "__iter__") else [int(x) for x in topk]
    if not 1 <= len(ks) <= _lib.NCF_MAX_TOPK:
        raise ValueError("topk: 1 to %d cutoffs" % _lib.NCF_MAX_TOPK)
    tc.eval.mode = _choice("eval", eval, _EVAL)
    tc.eval.n_k = len(ks)
    for j, v in enumerate(ks):
        tc.eval.k[j] = v
    _check(lib.ncf_eval_config_check(ctypes.byref(tc.eval), ctypes.byref(err)), err)
    tc.eval_every_epoch = int(eval_every)
    tc.early_stop = int(early_stop)
    _check(lib.ncf_train_config_check(ctypes.byref(tc), ctypes.byref(err)), err)

    ds = data._ptr.contents
    if ds.test.n == 0:
        raise Error("%s: no test cases (every user has a single interaction)" % (data.path or "data"),
                    _lib.NCF_ERR_EMPTY)
    mc.n_users = ds.n_users
    mc.n_items = ds.n_items
    p = ctypes.c_void_p()
    _check(lib.ncf_model_create(ctypes.byref(mc), int(seed), ctypes.byref(p), ctypes.byref(err)), err)
    m = Model(p)  # owns p from here on
    _check(lib.ncf_model_attach_data(p, data._ptr, ctypes.byref(err)), err)

    t = ctypes.c_void_p()
    _check(lib.ncf_trainer_create(p, data._ptr, ctypes.byref(tc), ctypes.byref(t), ctypes.byref(err)), err)
    rep = _lib.ncf_epoch_report()
    ex = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ncf-train")
    fut = None
    try:
        try:
            while not lib.ncf_trainer_done(t):
                # the epoch runs in a worker thread (ctypes releases the GIL) so that
                # Ctrl-C reaches this thread at once and can interrupt the epoch
                fut = ex.submit(lib.ncf_trainer_epoch, t, ctypes.byref(rep), ctypes.byref(err))
                st = _wait(fut)
                fut = None
                if st == _lib.NCF_ERR_INTERRUPTED:
                    m.interrupted = True
                    break
                _check(st, err)
                report = _report_dict(rep)
                m.history.append(report)
                if callback is not None:
                    try:
                        stop = callback(report)
                    except StopIteration:
                        stop = True
                    if stop:
                        m.stopped = True
                        break
        except KeyboardInterrupt:
            m.interrupted = True
            if fut is not None:
                lib.ncf_trainer_interrupt(t)
                st = _wait(fut, interruptible=False)
                if st == _lib.NCF_OK:  # the epoch had just ended
                    m.history.append(_report_dict(rep))
        res = _lib.ncf_train_result()
        _check(lib.ncf_trainer_finish(t, ctypes.byref(res), ctypes.byref(err)), err)
    finally:
        if fut is not None:  # an exception while an epoch ran: stop it before freeing
            lib.ncf_trainer_interrupt(t)
            _wait(fut, interruptible=False)
        ex.shutdown(wait=True)
        lib.ncf_trainer_free(t)

    r = {"epochs_run": res.epochs_run, "best_epoch": res.best_epoch, "best_hr": res.best.hr,
         "best_ndcg": res.best.ndcg, "final_hr": res.final.hr, "final_ndcg": res.final.ndcg,
         "final_loss": res.final_loss}
    if res.best_epoch:
        r.update(_metrics_dict(res.best, "best_"))
        r.update(_metrics_dict(res.final, "final_"))
    if res.selected_epoch:
        r["selected_epoch"] = res.selected_epoch
        r.update(_metrics_dict(res.selected, "selected_"))
        r.update(_metrics_dict(res.selected_valid, "selected_valid_"))
    if ds.valid.n:
        r["stopped_early"] = bool(res.stopped_early)
    m.result = r

    # the metadata `ncf train --out` stores, key for key, so the files are the same bytes
    lazy = lib.ncf_train_rows_mode(ctypes.byref(tc), mtype) == _ROWS["lazy"]
    meta = ("model=%s\npreset=%s\nfactors=%d\nlayers=%s\nepochs=%d\nbatch=%d\nlr=%g\nneg=%d\nloss=%s\n"
            "optimizer=%s\nmomentum=%g\nrows=%s\nreg=%g\nreg_layers=%g\nlr_schedule=%s\nseed=%d\ntopk=%d\n"
            "data=%s\nnegatives=%d\nbest_epoch=%d\n"
            "best_hr=%.6f\nbest_ndcg=%.6f\nfinal_hr=%.6f\nfinal_ndcg=%.6f\neval=%s\nselected_epoch=%d\n") % (
        _MODELS[mtype], _PRESETS[pr], int(factors), ",".join(str(x) for x in layers), res.epochs_run, tc.batch,
        tc.lr, tc.neg, lib.ncf_loss_name(tc.loss).decode(), lib.ncf_optimizer_name(tc.optimizer).decode(),
        tc.momentum, "lazy" if lazy else "dense", tc.reg, tc.reg_layers, _SCHEDULES[tc.schedule], int(seed),
        ks[0], data.path if data.path is not None else "(arrays)", data.negatives, res.best_epoch, res.best.hr,
        res.best.ndcg, res.final.hr, res.final.ndcg, _EVAL[tc.eval.mode], res.selected_epoch)
    _check(lib.ncf_model_set_meta(p, meta.encode()), None, "metadata")
    return m
