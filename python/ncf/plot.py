"""ncf.plot — training curves: the loss and each metric per epoch, several
runs side by side, with matplotlib (Agg backend: no display needed).

    ncf.plot.history(model, out="curves.png")                   # one run
    ncf.plot.history({"NeuMF": m1, "GMF": m2}, out="cmp.png")   # several, labelled
    ncf.plot.history(["neumf.jsonl", "gmf.jsonl"], out="cmp.png")

    python3 -m ncf.plot RUN.jsonl [RUN2.jsonl ...] -o curves.png [--metrics hr@10,ndcg@10]

A run is an ncf.Model (its history), a list of per-epoch dicts, or the path
of a RUN.jsonl file as `ncf train --json > RUN.jsonl` writes it: one JSON
object per epoch, then a summary object (which has no "epoch" and is
skipped here).
"""
import argparse
import json
import math
import os
import sys

_SKIP = {"epoch", "hr", "ndcg", "train_seconds", "eval_seconds", "samples_per_second"}


def read_jsonl(path):
    """The per-epoch objects of an `ncf train --json` output file."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except ValueError as e:
                raise ValueError("%s:%d: not JSON (%s)" % (path, n, e)) from None
            if isinstance(obj, dict) and "epoch" in obj:
                rows.append(obj)
    if not rows:
        raise ValueError("%s: no per-epoch objects (is it `ncf train --json` output?)" % path)
    return rows


def _as_runs(runs, labels):
    """[(label, [epoch dicts])] from the many shapes history() accepts."""
    if isinstance(runs, dict):
        items = list(runs.items())
    elif isinstance(runs, (str, os.PathLike)) or hasattr(runs, "history") or (
            isinstance(runs, list) and runs and isinstance(runs[0], dict)):
        items = [(None, runs)]
    else:
        items = [(None, r) for r in runs]
    out = []
    for k, (label, r) in enumerate(items):
        if isinstance(r, (str, os.PathLike)):
            rows = read_jsonl(r)
            label = label or os.path.splitext(os.path.basename(os.fspath(r)))[0]
        elif hasattr(r, "history"):
            rows = r.history
            label = label or "%s" % getattr(r, "type", "run %d" % (k + 1))
        else:
            rows = list(r)
            label = label or "run %d" % (k + 1)
        if labels and k < len(labels):
            label = labels[k]
        out.append((label, rows))
    return out


def _metric_keys(runs):
    keys = []
    for _, rows in runs:
        for row in rows:
            for key in row:
                if "@" in key and key not in keys and key.split("@")[0].replace("valid_", "") in (
                        "hr", "ndcg", "recall", "precision", "mrr"):
                    keys.append(key)
    # the paper's pair first, then the rest as they came
    order = {"hr": 0, "recall": 1, "ndcg": 2, "precision": 3, "mrr": 4}
    return sorted(keys, key=lambda k: (k.startswith("valid_"), order.get(k.split("@")[0].replace("valid_", ""), 9),
                                       int(k.split("@")[1]) if k.split("@")[1].isdigit() else 0))


def _value(row, key):
    v = row.get(key)
    if v is None:
        return math.nan
    v = float(v)
    return math.nan if v < 0 and key != "loss" else v  # the CLI writes -1 for "not evaluated"


def history(runs, out=None, *, metrics=None, labels=None, title=None, dpi=110):
    """Draws the loss and the metrics per epoch, one panel each, every run a
    line in each panel. runs: a Model, a list of epoch dicts, a RUN.jsonl
    path, or a list / dict (label -> run) of those. metrics: the keys to
    draw ("hr@10", "ndcg@10", ...; default: the sampled protocol's HR and
    NDCG, or recall and NDCG at the first cutoff for full ranking, whichever
    the runs have). Writes out (PNG, SVG, PDF by its suffix) when given;
    returns the matplotlib Figure."""
    import matplotlib
    if out is not None or not os.environ.get("DISPLAY"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = _as_runs(runs, labels)
    if metrics is None:
        keys = [k for k in _metric_keys(runs) if not k.startswith("valid_")]
        first = [k for k in keys if k.endswith("@" + keys[0].split("@")[1])] if keys else []
        pick = [k for k in first if k.split("@")[0] in ("hr", "ndcg")]
        if not pick or all(k.startswith("hr") for k in pick):
            pick = [k for k in first if k.split("@")[0] in ("recall", "ndcg")] or pick
        metrics = pick[:2]
        metrics += [k for k in _metric_keys(runs) if k.startswith("valid_") and k[6:] in metrics]
    panels = ["loss"] + list(metrics)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.6), squeeze=False)
    for ax, key in zip(axes[0], panels):
        for label, rows in runs:
            xs = [int(r["epoch"]) for r in rows]
            ys = [_value(r, key) for r in rows]
            pts = [(x, y) for x, y in zip(xs, ys) if not math.isnan(y)]
            if not pts:
                continue
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, linewidth=1.5, label=label)
        name = key.replace("valid_", "validation ")
        name = name.upper().replace("@", "@") if key != "loss" else "training loss"
        ax.set_title(name.replace("VALIDATION ", "validation "))
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if len(runs) > 1 or runs[0][0]:
        axes[0][-1].legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if out is not None:
        fig.savefig(out, dpi=dpi)
        plt.close(fig)
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m ncf.plot",
                                 description="Draw loss and metrics per epoch from `ncf train --json` output.")
    ap.add_argument("runs", nargs="+", metavar="RUN.jsonl")
    ap.add_argument("-o", "--out", default="curves.png", help="image file (default curves.png)")
    ap.add_argument("--metrics", help="comma-separated keys, e.g. hr@10,ndcg@10 (default: HR and NDCG)")
    ap.add_argument("--labels", help="comma-separated run labels (default: the file names)")
    ap.add_argument("--title")
    a = ap.parse_args(argv)
    try:
        history(a.runs, a.out, metrics=a.metrics.split(",") if a.metrics else None,
                labels=a.labels.split(",") if a.labels else None, title=a.title)
    except (OSError, ValueError) as e:
        print("ncf.plot: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
