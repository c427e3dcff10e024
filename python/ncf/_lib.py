"""ncf._lib — finds libncf.so and declares the C API with ctypes.

The structures below mirror include/ncf/*.h field for field (ctypes lays
them out with the C compiler's rules); tests/python/test_layout.py compiles
a C program printing sizeof/offsetof and compares. Nothing here is public:
use the classes in ncf.
"""
import ctypes
import ctypes.util
import os

c_int = ctypes.c_int
c_int32 = ctypes.c_int32
c_int64 = ctypes.c_int64
c_uint64 = ctypes.c_uint64
c_float = ctypes.c_float
c_double = ctypes.c_double
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
P = ctypes.POINTER

NCF_ERR_LEN = 512
NCF_MAX_HIDDEN = 8
NCF_MAX_TOPK = 8
NCF_METRICS = 5
NCF_OK = 0
NCF_ERR_NOT_FOUND = -7
NCF_ERR_INTERRUPTED = -9


class ncf_err(ctypes.Structure):
    _fields_ = [("msg", ctypes.c_char * NCF_ERR_LEN)]


LAYOUT_FN = ctypes.CFUNCTYPE(None, c_void_p, c_char_p, c_char_p, c_int)


class ncf_read_options(ctypes.Structure):
    _fields_ = [
        ("format", c_int),
        ("sep", c_char_p),
        ("header", c_int),
        ("user_col", c_int),
        ("item_col", c_int),
        ("rating_col", c_int),
        ("time_col", c_int),
        ("min_rating", c_double),
        ("use_min_rating", c_int),
        ("on_layout", LAYOUT_FN),
        ("layout_ctx", c_void_p),
    ]


class ncf_load_options(ctypes.Structure):
    _fields_ = [
        ("read", ncf_read_options),
        ("n_negatives", c_int),
        ("seed", c_uint64),
        ("validation", c_int),
        ("test_path", c_char_p),
    ]


class ncf_cases(ctypes.Structure):
    _fields_ = [
        ("n", c_int32),
        ("users", P(c_int32)),
        ("items", P(c_int32)),
        ("neg_offsets", P(c_int64)),
        ("negs", P(c_int32)),
    ]


class ncf_dataset(ctypes.Structure):
    _fields_ = [
        ("n_users", c_int32),
        ("n_items", c_int32),
        ("user_ids", c_void_p),
        ("item_ids", c_void_p),
        ("n_train", c_int64),
        ("train_offsets", P(c_int64)),
        ("train_items", P(c_int32)),
        ("test", ncf_cases),
        ("valid", ncf_cases),
        ("negatives_drawn", c_int),
        ("own_shards", c_int32),
        ("own_users", P(ctypes.c_uint8)),
        ("lines_read", c_int64),
    ]


class ncf_model_config(ctypes.Structure):
    _fields_ = [
        ("type", c_int),
        ("n_users", c_int32),
        ("n_items", c_int32),
        ("factors", c_int32),
        ("mlp_embed", c_int32),
        ("n_hidden", c_int32),
        ("hidden", c_int32 * NCF_MAX_HIDDEN),
        ("gmf_activation", c_int),
        ("dropout", c_float),
        ("init_std", c_float),
    ]


class ncf_table_view(ctypes.Structure):
    _fields_ = [("data", P(c_float)), ("rows", c_int32), ("dim", c_int32), ("stride", c_int32)]


class ncf_eval_config(ctypes.Structure):
    _fields_ = [("mode", c_int), ("n_k", c_int), ("k", c_int * NCF_MAX_TOPK)]


class ncf_metrics(ctypes.Structure):
    _fields_ = [
        ("hr", c_double),
        ("ndcg", c_double),
        ("n_cases", c_int32),
        ("topk", c_int),
        ("n_k", c_int),
        ("k", c_int * NCF_MAX_TOPK),
        ("at", (c_double * NCF_METRICS) * NCF_MAX_TOPK),
    ]


class ncf_epoch_report(ctypes.Structure):
    _fields_ = [
        ("epoch", c_int),
        ("loss", c_double),
        ("test", ncf_metrics),
        ("valid", ncf_metrics),
        ("train_seconds", c_double),
        ("eval_seconds", c_double),
        ("samples", c_int64),
    ]


ON_EPOCH_FN = ctypes.CFUNCTYPE(c_int, P(ncf_epoch_report), c_void_p)
ON_PROGRESS_FN = ctypes.CFUNCTYPE(None, c_int, c_double, c_void_p)


class ncf_train_config(ctypes.Structure):
    _fields_ = [
        ("epochs", c_int),
        ("batch", c_int),
        ("neg", c_int),
        ("lr", c_float),
        ("optimizer", c_int),
        ("beta1", c_float),
        ("beta2", c_float),
        ("eps", c_float),
        ("adam_mode", c_int),
        ("reg", c_float),
        ("reg_layers", c_float),
        ("momentum", c_float),
        ("alpha", c_float),
        ("schedule", c_int),
        ("lr_step", c_int),
        ("lr_gamma", c_float),
        ("lr_end", c_float),
        ("loss", c_int),
        ("threads", c_int),
        ("seed", c_uint64),
        ("eval", ncf_eval_config),
        ("eval_every_epoch", c_int),
        ("early_stop", c_int),
        ("shards", c_int),
        ("on_epoch", ON_EPOCH_FN),
        ("on_progress", ON_PROGRESS_FN),
        ("user", c_void_p),
    ]


class ncf_train_result(ctypes.Structure):
    _fields_ = [
        ("epochs_run", c_int),
        ("best_epoch", c_int),
        ("final_loss", c_double),
        ("best", ncf_metrics),
        ("final", ncf_metrics),
        ("selected_epoch", c_int),
        ("selected_valid", ncf_metrics),
        ("selected", ncf_metrics),
        ("stopped_early", c_int),
    ]


# name: (restype, argtypes); c_void_p stands for the opaque handles
_PROTOS = {
    "ncf_version": (c_char_p, []),
    "ncf_status_str": (c_char_p, [c_int]),
    "ncf_kernels": (c_char_p, []),
    "ncf_threads_resolve": (c_int, [c_int]),
    "ncf_idmap_find": (c_int32, [c_void_p, c_char_p, ctypes.c_size_t]),
    "ncf_idmap_size": (c_int32, [c_void_p]),
    "ncf_idmap_raw": (c_char_p, [c_void_p, c_int32]),
    "ncf_read_options_default": (None, [P(ncf_read_options)]),
    "ncf_load_options_default": (None, [P(ncf_load_options)]),
    "ncf_interactions_read": (c_int, [c_char_p, P(ncf_read_options), P(c_void_p), P(ncf_err)]),
    "ncf_interactions_free": (None, [c_void_p]),
    "ncf_split_write": (c_int, [c_void_p, c_char_p, c_int, c_int, c_uint64, P(ncf_err)]),
    "ncf_dataset_load": (c_int, [c_char_p, P(ncf_load_options), P(P(ncf_dataset)), P(ncf_err)]),
    "ncf_dataset_free": (None, [P(ncf_dataset)]),
    "ncf_dataset_remap": (c_int, [P(ncf_dataset), c_void_p, c_void_p, P(P(ncf_dataset)), P(c_int32), P(ncf_err)]),
    "ncf_model_config_preset": (c_int, [c_int, c_int, c_int32, P(c_int32), c_int, P(ncf_model_config), P(ncf_err)]),
    "ncf_model_type_name": (c_char_p, [c_int]),
    "ncf_model_create": (c_int, [P(ncf_model_config), c_uint64, P(c_void_p), P(ncf_err)]),
    "ncf_model_free": (None, [c_void_p]),
    "ncf_model_attach_data": (c_int, [c_void_p, P(ncf_dataset), P(ncf_err)]),
    "ncf_model_get_config": (P(ncf_model_config), [c_void_p]),
    "ncf_model_users": (c_void_p, [c_void_p]),
    "ncf_model_items": (c_void_p, [c_void_p]),
    "ncf_model_param_count": (c_int64, [c_void_p]),
    "ncf_model_score": (c_int, [c_void_p, c_int32, P(c_int32), c_int, P(c_float)]),
    "ncf_model_recommend": (c_int, [c_void_p, c_int32, c_int, P(c_int32), P(c_float), P(c_int)]),
    "ncf_model_set_meta": (c_int, [c_void_p, c_char_p]),
    "ncf_model_meta": (c_char_p, [c_void_p]),
    "ncf_model_save": (c_int, [c_void_p, c_char_p, P(ncf_err)]),
    "ncf_model_load": (c_int, [c_char_p, P(c_void_p), P(ncf_err)]),
    "ncf_model_table": (c_int, [c_void_p, c_char_p, P(ncf_table_view)]),
    "ncf_eval_config_check": (c_int, [P(ncf_eval_config), P(ncf_err)]),
    "ncf_evaluate_cases": (c_int, [c_void_p, P(ncf_dataset), P(ncf_cases), P(ncf_eval_config), c_int,
                                   P(ncf_metrics), P(ncf_err)]),
    "ncf_metric_name": (c_char_p, [c_int]),
    "ncf_primary_metric": (c_int, [c_int]),
    "ncf_train_config_default": (None, [P(ncf_train_config)]),
    "ncf_train_config_check": (c_int, [P(ncf_train_config), P(ncf_err)]),
    "ncf_trainer_create": (c_int, [c_void_p, P(ncf_dataset), P(ncf_train_config), P(c_void_p), P(ncf_err)]),
    "ncf_trainer_free": (None, [c_void_p]),
    "ncf_trainer_epoch": (c_int, [c_void_p, P(ncf_epoch_report), P(ncf_err)]),
    "ncf_trainer_done": (c_int, [c_void_p]),
    "ncf_trainer_epochs_done": (c_int, [c_void_p]),
    "ncf_trainer_interrupt": (None, [c_void_p]),
    "ncf_trainer_finish": (c_int, [c_void_p, P(ncf_train_result), P(ncf_err)]),
    "ncf_loss_name": (c_char_p, [c_int]),
    "ncf_optimizer_name": (c_char_p, [c_int]),
    "ncf_train_rows_mode": (c_int, [P(ncf_train_config), c_int]),
    "ncf_scorer_create": (c_int, [c_void_p, c_int, P(c_void_p), P(ncf_err)]),
    "ncf_scorer_free": (None, [c_void_p]),
    "ncf_scorer_recommend": (c_int, [c_void_p, c_int32, c_int, P(c_int32), P(c_float), P(c_int)]),
    "ncf_scorer_recommend_many": (c_int, [c_void_p, P(c_int32), c_int, c_int, c_int, P(c_int32), P(c_float), P(c_int)]),
    "ncf_scorer_score": (c_int, [c_void_p, c_int32, P(c_int32), c_int, P(c_float)]),
}


def _candidates():
    """Where libncf is looked for, in order (see docs/python.md)."""
    env = os.environ.get("NCF_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "libncf.so")  # shipped next to the package
    # a checkout: python/ncf/_lib.py -> build/libncf.so
    yield os.path.join(os.path.dirname(os.path.dirname(here)), "build", "libncf.so")
    found = ctypes.util.find_library("ncf")  # after `make install` (ldconfig)
    if found:
        yield found
    yield "libncf.so.0"  # the dynamic loader's own path (LD_LIBRARY_PATH, /usr/local/lib)
    for prefix in ("/usr/local/lib", "/usr/lib"):
        yield os.path.join(prefix, "libncf.so.0")


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        return lib, path
    raise OSError("ncf: libncf.so not found; build it with `make` in the checkout, run `make install`, "
                  "or set NCF_LIBRARY to its path. Tried: " + "; ".join(tried))


lib, path = _load()
missing = []
for _name, (_res, _args) in _PROTOS.items():
    try:
        _f = getattr(lib, _name)
    except AttributeError:
        missing.append(_name)
        continue
    _f.restype = _res
    _f.argtypes = _args
