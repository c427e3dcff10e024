"""No leaks under repeated load/free: the process's resident memory stays
flat over 200 load/free cycles of a model (with its views and scorer
used), and tracemalloc sees no growth of Python objects."""
import gc
import tracemalloc

import ncf


def rss_kib():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def cycle(path, user):
    m = ncf.Model.load(path)
    a = m.user_factors
    float(a.sum())
    m.recommend(user, k=5)
    m.score(user, m.items[:3])
    del a, m


def test_load_free_cycles(tmp_path, synth):
    data = ncf.Dataset.from_file(synth)
    path = str(tmp_path / "m.ncf")
    ncf.train(data, epochs=1).save(path)
    user = data.users[0]
    for _ in range(20):  # warm up: allocator arenas, imports, caches
        cycle(path, user)
    gc.collect()
    rss0 = rss_kib()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for _ in range(200):
        cycle(path, user)
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in snap1.compare_to(snap0, "filename") if s.size_diff > 0)
    rss1 = rss_kib()
    # one model is ~100 KiB of weights plus its scorer: 200 leaked would be > 20 MiB
    assert rss1 - rss0 < 4096, "RSS grew by %d KiB over 200 load/free cycles" % (rss1 - rss0)
    assert grown < 64 * 1024, "Python allocations grew by %d bytes" % grown


def test_dataset_and_training_cycles(synth):
    for _ in range(5):
        ncf.train(ncf.Dataset.from_file(synth), model="gmf", epochs=1)
    gc.collect()
    rss0 = rss_kib()
    for _ in range(30):
        ncf.train(ncf.Dataset.from_file(synth), model="gmf", epochs=1)
    gc.collect()
    assert rss_kib() - rss0 < 8192
