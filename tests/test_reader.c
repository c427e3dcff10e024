/* test_reader.c — the parallel interactions reader (src/data/readpar.c)
 * against the reference reader (reader.c's line-by-line pass): files of
 * many chunks mixing every kind of line the fast path hands to the rules
 * (repeated pairs with older and newer times, blank and CRLF lines, a
 * byte-order mark, a header, UTF-8 ids, numbers written unusually,
 * --min-rating), in every layout, sorted by user or not, must give the same interactions, the
 * same id maps and the same error (the first bad line's, with its number),
 * whatever the thread count. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core.h"
#include "data/reader_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

/* Asserts that x and y are the same interactions with the same id maps. */
static void expect_same(const ncf_interactions *x, const ncf_interactions *y)
{
    assert_int_equal(x->n, y->n);
    assert_int_equal(x->has_time, y->has_time);
    for (int64_t k = 0; k < x->n; k++) {
        if (x->user[k] != y->user[k] || x->item[k] != y->item[k] || x->time[k] != y->time[k] ||
            x->line[k] != y->line[k] || memcmp(&x->rating[k], &y->rating[k], sizeof(float)) != 0)
            fprintf(stderr, "record %lld differs: (%d %d %g %lld line %lld) vs (%d %d %g %lld line %lld)\n",
                    (long long)k, x->user[k], x->item[k], (double)x->rating[k], (long long)x->time[k],
                    (long long)x->line[k], y->user[k], y->item[k], (double)y->rating[k], (long long)y->time[k],
                    (long long)y->line[k]);
        assert_int_equal(x->user[k], y->user[k]);
        assert_int_equal(x->item[k], y->item[k]);
        assert_int_equal(x->time[k], y->time[k]);
        assert_int_equal(x->line[k], y->line[k]);
        assert_memory_equal(&x->rating[k], &y->rating[k], sizeof(float));
    }
    assert_int_equal(!x->users, !y->users);
    if (!x->users) return;
    const ncf_idmap *mx[2] = {x->users, x->items}, *my[2] = {y->users, y->items};
    for (int s = 0; s < 2; s++) {
        assert_int_equal(ncf_idmap_size(mx[s]), ncf_idmap_size(my[s]));
        for (int32_t k = 0; k < ncf_idmap_size(mx[s]); k++)
            assert_string_equal(ncf_idmap_raw(mx[s], k), ncf_idmap_raw(my[s], k));
    }
}

/* Reads path with both readers (the parallel one on 1, 2 and 3 threads)
 * and compares results, or errors and their messages. */
static void compare(const char *path, const ncf_read_options *opt, int integer_ids)
{
    ncf_err e_ref = {{0}};
    ncf_interactions *ref = NULL;
    int32_t mu_ref = -1, mi_ref = -1;
    ncf_status st_ref = ncf_read_interactions_ref_(path, opt, integer_ids, &ref, &mu_ref, &mi_ref, &e_ref);
    for (int threads = 1; threads <= 3; threads++) {
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        ncf_err e = {{0}};
        ncf_interactions *x = NULL;
        int32_t mu = -1, mi = -1;
        ncf_status st = ncf_read_interactions_(path, opt, integer_ids, &x, &mu, &mi, &e);
        if (st != st_ref || strcmp(e.msg, e_ref.msg) != 0)
            fprintf(stderr, "%s, %d threads: '%s' (%d) vs the reference's '%s' (%d)\n", path, threads, e.msg, st,
                    e_ref.msg, st_ref);
        assert_int_equal(st, st_ref);
        assert_string_equal(e.msg, e_ref.msg);
        if (st == NCF_OK) {
            expect_same(x, ref);
            assert_int_equal(mu, mu_ref);
            assert_int_equal(mi, mi_ref);
        }
        ncf_interactions_free(x);
    }
#ifdef _OPENMP
    omp_set_num_threads(ncf_threads_resolve(0));
#endif
    ncf_interactions_free(ref);
}

/* A growing text buffer. */
typedef struct text {
    char *p;
    size_t n, cap;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[512];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && n < (int)sizeof line);
    if (t->n + (size_t)n + 1 > t->cap) {
        t->cap = (t->n + (size_t)n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
    memcpy(t->p + t->n, line, (size_t)n + 1);
    t->n += (size_t)n;
}

static const char *write_text(const char *name, const text *t)
{
    const char *path = tu_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(t->p, 1, t->n, f), t->n);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Lines of user SEP item SEP rating SEP time, about `bytes` long, with
 * every odd kind of line mixed in (deterministic). */
static void mixed_lines(text *t, const char *sep, size_t bytes, int odd_ids)
{
    ncf_rng r;
    ncf_rng_seed_(&r, 7, 1, 2);
    static const char *ratings[] = {"4", "3.5", "5", "1", "+4", "4.", "1e0", "0.5", "-0", "2.50", "4.0000000001"};
    static const char *times[] = {"+17", "1.5e3", "0017", "-3", "12.0"};
    for (int64_t k = 0; t->n < bytes; k++) {
        const uint32_t u = ncf_rng_below_(&r, 3000), i = ncf_rng_below_(&r, 800), kind = ncf_rng_below_(&r, 200);
        const char *rating = ratings[kind < 180 ? kind % 3 : kind % 11];
        char time[32];
        if (kind % 37 == 0) snprintf(time, sizeof time, "%s", times[kind % 5]);
        else snprintf(time, sizeof time, "%lld", (long long)(ncf_rng_below_(&r, 50) + 1000)); /* repeats tie often */
        if (kind == 3) add(t, "\n");
        else if (kind == 4) add(t, "  \t \r\n");
        else if (odd_ids && kind == 5) add(t, "u%u\xc3\xa9%s%s%s%s%s%s\n", u, sep, "i\xe2\x82\xac", sep, rating, sep, time);
        else if (kind == 6) add(t, "u%u%si%u%s%s%s%s\r\n", u, sep, i, sep, rating, sep, time);
        else if (kind == 7) add(t, "%u%s%u%s%s%s%s\n", u, sep, i, sep, rating, sep, time); /* integer-looking ids */
        else add(t, "u%u%si%u%s%s%s%s\n", u, sep, i, sep, rating, sep, time);
    }
}

static void test_delimited_layouts(void **state)
{
    (void)state;
    static const char *seps[] = {"\t", ",", "::", " "};
    for (int s = 0; s < 4; s++) {
        text t = {0};
        if (s == 1) add(&t, "\xef\xbb\xbfuserId,movieId,rating,timestamp\n"); /* BOM and header */
        mixed_lines(&t, seps[s], 5u << 20, 1);
        const char *path = write_text("mixed.txt", &t);
        ncf_read_options o;
        ncf_read_options_default(&o);
        compare(path, &o, 0);
        o.use_min_rating = 1; /* lines below it dropped, their ids kept */
        o.min_rating = 3.5;
        compare(path, &o, 0);
        if (s == 0) { /* no time column: the first occurrence keeps its line; columns in another order */
            ncf_read_options_default(&o);
            o.time_col = -1;
            compare(path, &o, 0);
            o.user_col = 1;
            o.item_col = 0;
            o.rating_col = -1;
            compare(path, &o, 0);
        }
        free(t.p);
    }
}

/* Sorted by user (each user's lines together, as MovieLens ships them):
 * the repeats are merged within each user's run of lines. */
static void test_grouped_by_user(void **state)
{
    (void)state;
    text t = {0};
    ncf_rng r;
    ncf_rng_seed_(&r, 11, 1, 2);
    for (int u = 0; t.n < (4u << 20); u++) {
        const int n = 1 + (int)ncf_rng_below_(&r, 60);
        for (int k = 0; k < n; k++)
            add(&t, "user%d,item%u,%u,%u\n", u, ncf_rng_below_(&r, 90), 1 + ncf_rng_below_(&r, 5),
                ncf_rng_below_(&r, 20));
    }
    const char *path = write_text("grouped.csv", &t);
    ncf_read_options o;
    ncf_read_options_default(&o);
    compare(path, &o, 0);
    free(t.p);
}

static void test_lists_and_integer_ids(void **state)
{
    (void)state;
    text t = {0};
    ncf_rng r;
    ncf_rng_seed_(&r, 9, 1, 2);
    for (int u = 0; t.n < (3u << 20); u++) {
        add(&t, "%u", u % 5000);
        const int n = (int)ncf_rng_below_(&r, 40);
        for (int k = 0; k < n; k++) add(&t, "%s%u", k % 7 == 3 ? "\t " : " ", ncf_rng_below_(&r, 3000));
        add(&t, u % 11 == 0 ? " \r\n" : "\n");
    }
    const char *path = write_text("lists.txt", &t);
    ncf_read_options o;
    ncf_read_options_default(&o);
    compare(path, &o, 0);
    free(t.p);

    /* the NCF format's integer ids, with a few written as the rules allow */
    text n = {0};
    for (int k = 0; n.n < (3u << 20); k++)
        add(&n, k % 101 == 0 ? "+%d\t%05d\t%d\t%d\n" : "%d\t%d\t%d\t%d\n", k % 4000, (k * 7) % 900, 1 + k % 5,
            k % 97);
    path = write_text("ncf.train.rating", &n);
    ncf_read_options_default(&o);
    o.format = NCF_FORMAT_DELIMITED;
    o.sep = "\t";
    o.header = 0;
    compare(path, &o, 1);
    free(n.p);
}

/* A bad line far into the file, and another after it: the first is the
 * error, with its line number, on any thread count. */
static void test_first_error_wins(void **state)
{
    (void)state;
    static const char *bad[] = {"u1\ti2\tfive\t3\n", "u1\ti2\n", "u1\t\t4\t3\n", "u1\ti\x01\t4\t3\n",
                                "u1\ti2\t4\t3x\n",   "u\xff\ti2\t4\t3\n", "u1\ti2\tnan\t3\n", "u1\ti2\t4\0\t3\n"};
    for (int b = 0; b < 8; b++) {
        text t = {0};
        mixed_lines(&t, "\t", 3u << 20, 0);
        const size_t at = t.n;
        mixed_lines(&t, "\t", 4u << 20, 0);
        /* the bad line replaces the line that starts after `at` */
        char *start = (char *)memchr(t.p + at, '\n', t.n - at) + 1;
        char *end = (char *)memchr(start, '\n', (size_t)(t.p + t.n - start)) + 1;
        const size_t blen = b == 7 ? 11 : strlen(bad[b]); /* the last holds a NUL byte */
        text u = {0};
        u.cap = t.n + blen + 64;
        u.p = malloc(u.cap);
        assert_non_null(u.p);
        memcpy(u.p, t.p, (size_t)(start - t.p));
        u.n = (size_t)(start - t.p);
        memcpy(u.p + u.n, bad[b], blen);
        u.n += blen;
        memcpy(u.p + u.n, end, (size_t)(t.p + t.n - end));
        u.n += (size_t)(t.p + t.n - end);
        memcpy(u.p + u.n, "u1\ti2\tbad\t1\n", 12); /* a second bad line, later */
        u.n += 12;
        const char *path = write_text("bad.txt", &u);
        ncf_read_options o;
        ncf_read_options_default(&o);
        compare(path, &o, 0);
        free(t.p);
        free(u.p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delimited_layouts),
        cmocka_unit_test(test_grouped_by_user),
        cmocka_unit_test(test_lists_and_integer_ids),
        cmocka_unit_test(test_first_error_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
