/* test_data.c — readers (every supported format), malformed input with
 * file:line errors, what is not text (NUL bytes, bad UTF-8, BOM, nan), the
 * layout reported, deduplication, --min-rating, the leave-one-out split
 * rules, test-negative drawing, the NCF loader and its checks (ids across
 * files, negatives' ids), remapping, and the synthetic generator's
 * determinism. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncf/ncf.h"
#include "testutil.h"

static ncf_interactions *read_ok(const char *path, const ncf_read_options *opt)
{
    ncf_interactions *x = NULL;
    ncf_err err = {{0}};
    ncf_status st = ncf_interactions_read(path, opt, &x, &err);
    if (st != NCF_OK) fprintf(stderr, "unexpected error: %s\n", err.msg);
    assert_int_equal(st, NCF_OK);
    return x;
}

static void expect_error(const char *text, const char *name, ncf_status want, const char *needle)
{
    const char *path = tu_write(name, text);
    ncf_interactions *x = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_interactions_read(path, NULL, &x, &err), want);
    assert_null(x);
    if (!strstr(err.msg, needle)) fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, needle);
    assert_non_null(strstr(err.msg, needle));
}

static void test_movielens_dat(void **state)
{
    const char *p = tu_write("ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
    ncf_interactions *x = read_ok(p, NULL);
    assert_int_equal(x->n, 3);
    assert_int_equal(ncf_idmap_size(x->users), 2);
    assert_int_equal(ncf_idmap_size(x->items), 2);
    assert_string_equal(ncf_idmap_raw(x->items, x->item[1]), "661");
    assert_true(x->has_time);
    assert_int_equal(x->time[2], 978298413);
    assert_true(x->rating[0] == 5.0f);
    ncf_interactions_free(x);
}

static void test_udata_tab(void **state)
{
    const char *p = tu_write("u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n\n22\t377\t1\t878887116\n");
    ncf_interactions *x = read_ok(p, NULL);
    assert_int_equal(x->n, 3);
    assert_string_equal(ncf_idmap_raw(x->users, x->user[2]), "22");
    ncf_interactions_free(x);
}

static void test_csv_header_and_min_rating(void **state)
{
    const char *p = tu_write("ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,2.5,964981247\r\n"
                                            "2,1,3.5,964982224\r\n");
    ncf_interactions *x = read_ok(p, NULL);
    assert_int_equal(x->n, 3);
    ncf_interactions_free(x);
    ncf_read_options o;
    ncf_read_options_default(&o);
    o.use_min_rating = 1;
    o.min_rating = 3.5;
    x = read_ok(p, &o);
    assert_int_equal(x->n, 2); /* 2.5 dropped */
    ncf_interactions_free(x);
}

static void test_header_without_timestamps(void **state)
{
    const char *p = tu_write("user_artists.dat", "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n3\t51\t5\n");
    ncf_interactions *x = read_ok(p, NULL);
    assert_int_equal(x->n, 3);
    assert_false(x->has_time);
    ncf_interactions_free(x);
}

static void test_columns_and_sep(void **state)
{
    const char *p = tu_write("custom.txt", "a|x|item1|9\nb|y|item2|8\n");
    ncf_read_options o;
    ncf_read_options_default(&o);
    o.sep = "|";
    o.user_col = 0;
    o.item_col = 2;
    o.rating_col = -1;
    o.time_col = 3;
    ncf_interactions *x = read_ok(p, &o);
    assert_int_equal(x->n, 2);
    assert_string_equal(ncf_idmap_raw(x->items, x->item[0]), "item1");
    assert_int_equal(x->time[1], 8);
    ncf_interactions_free(x);
}

static void test_lists(void **state)
{
    /* LightGCN style; user 0 is named on two lines (train + valid) */
    const char *p = tu_write("train.txt", "0 10 11 12\n1 10\n2 13 14 15 16 17\n0 18\n3\n");
    ncf_interactions *x = read_ok(p, NULL);
    assert_int_equal(x->n, 10);
    assert_int_equal(ncf_idmap_size(x->users), 4); /* user 3 named with no items */
    ncf_interactions_free(x);
}

static void test_duplicates_count_once(void **state)
{
    const char *p = tu_write("dup.tsv", "u1\ti1\t5\t100\nu1\ti2\t5\t200\nu1\ti1\t3\t300\n");
    ncf_interactions *x = read_ok(p, NULL);
    assert_int_equal(x->n, 2);
    assert_int_equal(x->time[0], 300); /* the repeat keeps its latest time */
    assert_int_equal(x->line[0], 3);
    ncf_interactions_free(x);
}

static void test_malformed(void **state)
{
    expect_error("1::2::5::100\n1::3::5\n", "short.dat", NCF_ERR_FORMAT, "short.dat:2: expected at least 4 fields");
    expect_error("1\t2\t5\t100\n1\t3\tfive\t100\n", "badrating.tsv", NCF_ERR_FORMAT,
                 "badrating.tsv:2: field 3: expected a rating");
    expect_error("1\t2\t5\t100\n1\t3\t4\tyesterday\n", "badtime.tsv", NCF_ERR_FORMAT,
                 "badtime.tsv:2: field 4: expected a timestamp");
    expect_error("", "empty.tsv", NCF_ERR_EMPTY, "empty.tsv: no interactions");
    expect_error("\n\n", "blank.tsv", NCF_ERR_EMPTY, "no interactions");
    ncf_interactions *x = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_interactions_read(tu_path("missing.tsv"), NULL, &x, &err), NCF_ERR_IO);
    assert_non_null(strstr(err.msg, "missing.tsv: cannot open"));
}

/* ---- what is not text --------------------------------------------------------- */
static const char *write_bytes(const char *name, const void *data, size_t n)
{
    const char *path = tu_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return path;
}

static void expect_bytes_error(const char *name, const void *data, size_t n, const char *needle)
{
    const char *path = write_bytes(name, data, n);
    ncf_interactions *x = NULL;
    ncf_err err = {{0}};
    ncf_status st = ncf_interactions_read(path, NULL, &x, &err);
    if (st != NCF_ERR_FORMAT || !strstr(err.msg, needle))
        fprintf(stderr, "%s: status %d, message '%s', wanted '%s'\n", name, st, err.msg, needle);
    assert_int_equal(st, NCF_ERR_FORMAT);
    assert_null(x);
    assert_non_null(strstr(err.msg, needle));
}

/* A NUL byte in a tab file's first line used to make it read as lists
 * (strchr stopped at the NUL); a BOM became part of the first user's id; a
 * first line whose rating is nan was skipped as a header; a random binary
 * file was read as lists of binary ids. */
static void test_not_text(void **state)
{
    static const char nul[] = "1\t2\t5\t100\0x\n1\t3\t4\t101\n2\t2\t3\t102\n";
    expect_bytes_error("nul.tsv", nul, sizeof nul - 1, "nul.tsv:1: a NUL byte (byte 10 of the line): not a text file");
    static const char nul3[] = "1\t2\t5\t100\n1\t3\t4\t101\n2\t2\0\t3\t102\n";
    expect_bytes_error("nul3.tsv", nul3, sizeof nul3 - 1, "nul3.tsv:3: a NUL byte");
    unsigned char bin[4096];
    uint32_t r = 12345;
    for (size_t k = 0; k < sizeof bin; k++) {
        r = r * 1664525u + 1013904223u;
        bin[k] = (unsigned char)(r >> 24);
    }
    expect_bytes_error("random.bin", bin, sizeof bin, "random.bin:1: ");
    for (size_t k = 0; k < sizeof bin; k++) /* no NUL, no newline or tab: still not text */
        if (bin[k] == 0 || bin[k] == '\n' || bin[k] == '\t' || bin[k] == ' ') bin[k] = 0xFF;
    expect_bytes_error("random2.bin", bin, sizeof bin, "random2.bin:1: field 1: the header's column name");
    expect_error("u1\ti1\t5\t1\nu\xff\xfe\ti2\t5\t2\n", "latin.tsv", NCF_ERR_FORMAT,
                 "latin.tsv:2: field 1: the user id 'u\\xFF\\xFE' is not valid UTF-8 (byte 0xFF at offset 1)");
    expect_error("u1\ti1\t5\t1\nu2\ti\x01\t5\t2\n", "ctl.tsv", NCF_ERR_FORMAT,
                 "ctl.tsv:2: field 2: the item id 'i\\x01' holds a control character");
    expect_error("u1\t\xC0\xAF\t5\t1\n", "overlong.tsv", NCF_ERR_FORMAT, "is not valid UTF-8 (byte 0xC0");
    expect_error("u1\t\xED\xA0\x80\t5\t1\n", "surrogate.tsv", NCF_ERR_FORMAT, "is not valid UTF-8 (byte 0xED");
    expect_error("u1 i1 i2\nu2 i\xE9t\xE9\n", "lists.txt", NCF_ERR_FORMAT, "lists.txt:2: field 2: the item id");
    /* UTF-8 ids are ids */
    ncf_interactions *x = read_ok(tu_write("utf8.tsv", "Jos\xC3\xA9\tcaf\xC3\xA9\t5\t1\n\xE6\x9D\xB1\t\xF0\x9F\x8E\xAC\t4\t2\n"), NULL);
    assert_int_equal(x->n, 2);
    assert_string_equal(ncf_idmap_raw(x->users, x->user[0]), "Jos\xC3\xA9");
    assert_string_equal(ncf_idmap_raw(x->items, x->item[1]), "\xF0\x9F\x8E\xAC");
    ncf_interactions_free(x);
    /* a byte-order mark is not part of the first id, nor hides a header */
    x = read_ok(tu_write("bom.tsv", "\xEF\xBB\xBFu1\ti1\t5\t1\nu1\ti2\t4\t2\n"), NULL);
    assert_int_equal(x->n, 2);
    assert_string_equal(ncf_idmap_raw(x->users, x->user[0]), "u1");
    ncf_interactions_free(x);
    x = read_ok(tu_write("bom.csv", "\xEF\xBB\xBFuserId,movieId,rating,timestamp\n1,10,4,5\n2,10,3,6\n"), NULL);
    assert_int_equal(x->n, 2);
    assert_string_equal(ncf_idmap_raw(x->users, x->user[0]), "1");
    ncf_interactions_free(x);
    /* nan (or inf) is no rating, on the first line as on any other */
    expect_error("1\t2\tnan\t100\n1\t3\t4\t101\n", "nan.tsv", NCF_ERR_FORMAT,
                 "nan.tsv:1: field 3: expected a rating (finite number), found 'nan'");
    expect_error("1\t2\t4\t100\n1\t3\tinf\t101\n", "inf.tsv", NCF_ERR_FORMAT,
                 "inf.tsv:2: field 3: expected a rating (finite number), found 'inf'");
}

typedef struct layout_seen {
    int calls, guessed;
    char layout[256];
} layout_seen;

static void on_layout(void *ctx, const char *path, const char *layout, int guessed)
{
    layout_seen *s = ctx;
    s->calls++;
    s->guessed = guessed;
    snprintf(s->layout, sizeof s->layout, "%s", layout);
}

/* The reader says how it read a file; --format and --sep decide it. */
static void test_layout_reported(void **state)
{
    layout_seen seen = {0};
    ncf_read_options o;
    ncf_read_options_default(&o);
    o.on_layout = on_layout;
    o.layout_ctx = &seen;
    ncf_interactions *x = read_ok(tu_write("lay.tsv", "1\t2\t5\t100\n1\t3\t4\t101\n"), &o);
    assert_int_equal(seen.calls, 1);
    assert_true(seen.guessed);
    assert_string_equal(seen.layout, "tab-separated user item rating time");
    ncf_interactions_free(x);
    memset(&seen, 0, sizeof seen);
    x = read_ok(tu_write("lay.csv", "user,item\n1,10\n2,11\n"), &o);
    assert_string_equal(seen.layout, "comma-separated user item, after a header line");
    ncf_interactions_free(x);
    const char *lists = tu_write("lay.txt", "0 1 2 3 4 5\n1 2\n");
    memset(&seen, 0, sizeof seen);
    x = read_ok(lists, &o);
    assert_string_equal(seen.layout, "whitespace-separated lists: user item item ...");
    assert_true(seen.guessed);
    assert_int_equal(x->n, 6);
    ncf_interactions_free(x);
    /* forced: the same file as whitespace-delimited user item pairs */
    o.format = NCF_FORMAT_DELIMITED;
    o.sep = " ";
    o.rating_col = -1;
    o.time_col = -1;
    memset(&seen, 0, sizeof seen);
    x = read_ok(lists, &o);
    assert_string_equal(seen.layout, "' '-separated user item");
    assert_false(seen.guessed);
    assert_int_equal(x->n, 2);
    ncf_interactions_free(x);
    /* the NCF format's files say nothing: their layout is the format's */
    tu_write("lay.train.rating", "0\t1\t5\t1\n1\t0\t5\t1\n");
    tu_write("lay.test.rating", "0\t0\t5\t2\n");
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.read.on_layout = on_layout;
    lo.read.layout_ctx = &seen;
    memset(&seen, 0, sizeof seen);
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_load(tu_path("lay"), &lo, &ds, &err), NCF_OK);
    assert_int_equal(seen.calls, 0);
    ncf_dataset_free(ds);
}

/* ---- split ------------------------------------------------------------------- */
static void test_split_rules(void **state)
{
    /* a: latest timestamp is i3 (line 2) although i9 is the last line;
     * b: tie on the latest timestamp -> the later line (i5);
     * c: one interaction -> stays in train, no test case */
    const char *p = tu_write("split.tsv", "a\ti1\t1\t10\na\ti3\t1\t50\nb\ti4\t1\t70\nb\ti5\t1\t70\nc\ti6\t1\t5\n"
                                          "a\ti9\t1\t20\nb\ti1\t1\t1\n");
    ncf_interactions *x = read_ok(p, NULL);
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_from_interactions(x, 3, 0, 7, &ds, &err), NCF_OK);
    assert_int_equal(ds->test.n, 2);
    assert_string_equal(ncf_idmap_raw(ds->user_ids, ds->test.users[0]), "a");
    assert_string_equal(ncf_idmap_raw(ds->item_ids, ds->test.items[0]), "i3");
    assert_string_equal(ncf_idmap_raw(ds->item_ids, ds->test.items[1]), "i5");
    assert_int_equal(ds->n_train, 7 - 2);
    int32_t c = ncf_idmap_find(ds->user_ids, "c", 1);
    assert_int_equal(ds->train_offsets[c + 1] - ds->train_offsets[c], 1);
    /* negatives: distinct, never an item of the user's (train or test) */
    for (int32_t k = 0; k < ds->test.n; k++) {
        int32_t u = ds->test.users[k];
        assert_int_equal(ds->test.neg_offsets[k + 1] - ds->test.neg_offsets[k], 3);
        for (int64_t q = ds->test.neg_offsets[k]; q < ds->test.neg_offsets[k + 1]; q++) {
            int32_t j = ds->test.negs[q];
            assert_false(ncf_dataset_has_train(ds, u, j));
            assert_int_not_equal(j, ds->test.items[k]);
            for (int64_t r = ds->test.neg_offsets[k]; r < q; r++) assert_int_not_equal(ds->test.negs[r], j);
        }
    }
    ncf_dataset_free(ds);
    ncf_interactions_free(x);
}

static void test_validation_split(void **state)
{
    /* a: i1 (t1) train, i2 (t2) validation, i3 (t3) test; b: two interactions, test
     * only; c: one, train only */
    const char *p = tu_write("valid.tsv", "a\ti2\t1\t2\na\ti3\t1\t3\na\ti1\t1\t1\nb\ti1\t1\t4\nb\ti4\t1\t5\nc\ti5\t1\t1\n");
    ncf_interactions *x = read_ok(p, NULL);
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_from_interactions(x, 2, 1, 7, &ds, &err), NCF_OK);
    assert_int_equal(ds->test.n, 2);
    assert_int_equal(ds->valid.n, 1);
    int32_t a = ncf_idmap_find(ds->user_ids, "a", 1);
    assert_int_equal(ds->valid.users[0], a);
    assert_string_equal(ncf_idmap_raw(ds->item_ids, ds->valid.items[0]), "i2");
    assert_string_equal(ncf_idmap_raw(ds->item_ids, ds->test.items[0]), "i3");
    assert_int_equal(ds->n_train, 6 - 3);
    assert_int_equal(ds->train_offsets[a + 1] - ds->train_offsets[a], 1);
    /* validation negatives avoid every item of the user, the test item too */
    int32_t i3 = ncf_idmap_find(ds->item_ids, "i3", 2), i1 = ncf_idmap_find(ds->item_ids, "i1", 2);
    for (int64_t q = ds->valid.neg_offsets[0]; q < ds->valid.neg_offsets[1]; q++) {
        assert_int_not_equal(ds->valid.negs[q], i3);
        assert_int_not_equal(ds->valid.negs[q], i1);
        assert_int_not_equal(ds->valid.negs[q], ds->valid.items[0]);
    }
    /* without validation the test cases and their negatives are as before */
    ncf_dataset *plain = NULL;
    assert_int_equal(ncf_dataset_from_interactions(x, 2, 0, 7, &plain, &err), NCF_OK);
    assert_int_equal(plain->valid.n, 0);
    assert_memory_equal(plain->test.items, ds->test.items, 2 * sizeof(int32_t));
    /* written with --validation and read back: the same cases */
    const char *prefix = tu_path("vs");
    char pre[512];
    snprintf(pre, sizeof pre, "%s", prefix);
    assert_int_equal(ncf_split_write(x, pre, 2, 1, 7, &err), NCF_OK);
    ncf_dataset *back = NULL;
    assert_int_equal(ncf_dataset_load(pre, NULL, &back, &err), NCF_OK);
    assert_int_equal(back->valid.n, 1);
    assert_int_equal(back->n_train, ds->n_train);
    assert_int_equal(back->valid.neg_offsets[1], ds->valid.neg_offsets[1]);
    assert_memory_equal(back->valid.negs, ds->valid.negs, (size_t)ds->valid.neg_offsets[1] * sizeof(int32_t));
    ncf_dataset_free(back);
    /* the NCF format without .valid files: --validation takes each user's latest training interaction */
    assert_int_equal(ncf_split_write(x, pre, 2, 0, 7, &err), NCF_OK);
    char path[600];
    snprintf(path, sizeof path, "%s.valid.rating", pre);
    remove(path);
    snprintf(path, sizeof path, "%s.valid.negative", pre);
    remove(path);
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.validation = 1;
    lo.n_negatives = 2;
    assert_int_equal(ncf_dataset_load(pre, &lo, &back, &err), NCF_OK);
    assert_int_equal(back->valid.n, 1); /* only a has two training interactions */
    assert_string_equal(ncf_idmap_raw(back->item_ids, back->valid.items[0]), "i2");
    assert_int_equal(back->n_train, plain->n_train - 1);
    ncf_dataset_free(back);
    ncf_dataset_free(plain);
    ncf_dataset_free(ds);
    ncf_interactions_free(x);
}

static void test_separate_test_file(void **state)
{
    /* Gowalla style: the data file is all training; the test file may add users
     * and items, and a test pair that is a training pair is dropped */
    char train[512];
    snprintf(train, sizeof train, "%s", tu_write("gw.train.txt", "0 1 2\n1 2\n0 4\n"));
    const char *test = tu_write("gw.test.txt", "2 1\n0 3 1\n");
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.read.format = NCF_FORMAT_LISTS;
    lo.test_path = test;
    lo.n_negatives = 0;
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_load(train, &lo, &ds, &err), NCF_OK);
    assert_int_equal(ds->n_users, 3);
    assert_int_equal(ds->n_items, 4); /* 1 2 4 3 */
    assert_int_equal(ds->n_train, 4); /* user 0's two lines merged */
    assert_int_equal(ds->test.n, 2);  /* (0,3) and (2,1); (0,1) is a training pair */
    assert_string_equal(ncf_idmap_raw(ds->user_ids, ds->test.users[0]), "0");
    assert_string_equal(ncf_idmap_raw(ds->item_ids, ds->test.items[0]), "3");
    assert_string_equal(ncf_idmap_raw(ds->user_ids, ds->test.users[1]), "2");
    assert_int_equal(ds->train_offsets[3] - ds->train_offsets[2], 0); /* the new user has no training rows */
    ncf_dataset_free(ds);
    lo.test_path = tu_path("missing.txt");
    assert_int_equal(ncf_dataset_load(train, &lo, &ds, &err), NCF_ERR_IO);
    assert_non_null(strstr(err.msg, "missing.txt"));
}

static void test_split_no_timestamps_last_line(void **state)
{
    /* the header is recognised: its fields are words, the ids below are numbers */
    const char *p = tu_write("notime.csv", "user,item\n1,10\n1,11\n1,12\n2,10\n2,13\n");
    ncf_interactions *x = read_ok(p, NULL);
    assert_false(x->has_time);
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_from_interactions(x, 99, 0, 1, &ds, &err), NCF_OK);
    assert_int_equal(ncf_idmap_size(ds->item_ids), 4);
    assert_string_equal(ncf_idmap_raw(ds->item_ids, ds->test.items[0]), "12");
    assert_string_equal(ncf_idmap_raw(ds->item_ids, ds->test.items[1]), "13");
    /* fewer unseen items than asked: all of them */
    assert_int_equal(ds->test.neg_offsets[1] - ds->test.neg_offsets[0], 1); /* user 1 never had 13 */
    ncf_dataset_free(ds);
    ncf_interactions_free(x);
}

static void test_split_write_and_reload(void **state)
{
    const char *p = tu_write("sw.tsv", "alice\tm1\t5\t1\nalice\tm2\t4\t2\nbob\tm2\t3\t3\nbob\tm3\t3\t4\nbob\tm4\t1\t5\n"
                                       "carol\tm1\t2\t6\ncarol\tm5\t2\t7\n");
    ncf_interactions *x = read_ok(p, NULL);
    ncf_err err = {{0}};
    const char *prefix = tu_path("sw");
    assert_int_equal(ncf_split_write(x, prefix, 2, 0, 3, &err), NCF_OK);
    char path[600];
    snprintf(path, sizeof path, "%s.test.negative", prefix);
    char *neg = tu_read(path, NULL);
    assert_non_null(neg);
    assert_int_equal(strncmp(neg, "(0,1)\t", 6), 0); /* alice = 0, m2 = 1 */
    free(neg);
    ncf_dataset *ds = NULL, *mem = NULL;
    assert_int_equal(ncf_dataset_load(prefix, NULL, &ds, &err), NCF_OK);
    assert_int_equal(ncf_dataset_from_interactions(x, 2, 0, 3, &mem, &err), NCF_OK);
    assert_int_equal(ds->n_users, 3);
    assert_int_equal(ds->test.n, 3);
    assert_false(ds->negatives_drawn);
    assert_string_equal(ncf_idmap_raw(ds->user_ids, 2), "carol"); /* raw ids from PREFIX.user.map */
    assert_int_equal(ds->n_train, mem->n_train);
    assert_memory_equal(ds->train_items, mem->train_items, (size_t)mem->n_train * sizeof(int32_t));
    assert_memory_equal(ds->test.negs, mem->test.negs, (size_t)mem->test.neg_offsets[mem->test.n] * sizeof(int32_t));
    ncf_dataset_free(ds);
    ncf_dataset_free(mem);
    /* a prefix in a missing directory: an error and no file left behind */
    assert_int_equal(ncf_split_write(x, tu_path("nodir/sw"), 2, 0, 3, &err), NCF_ERR_IO);
    assert_false(tu_exists(tu_path("nodir")));
    ncf_interactions_free(x);
}

static void test_ncf_format_checks(void **state)
{
    tu_write("bad.train.rating", "0\t1\t5\t10\n1\t2\t5\t10\n");
    tu_write("bad.test.rating", "0\t3\t5\t11\n1\t0\t5\t11\n");
    tu_write("bad.test.negative", "(0,3)\t2\t4\n(1,2)\t3\t4\n");
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_load(tu_path("bad"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "bad.test.negative:2: (1,2) does not match"));
    tu_write("bad.test.negative", "(0,3)\t2\t4\n(1,0)\t3\tx\n");
    assert_int_equal(ncf_dataset_load(tu_path("bad"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "bad.test.negative:2: field 3: expected an item id"));
    tu_write("bad.test.negative", "(0,3)\t2\t4\t3\t3\n(1,0)\t3\t4\n");
    assert_int_equal(ncf_dataset_load(tu_path("bad"), NULL, &ds, &err), NCF_OK);
    assert_int_equal(ds->n_items, 5);
    assert_int_equal(ds->test.neg_offsets[1], 4); /* kept as listed; evaluation drops 3 and the repeat */
    ncf_dataset_free(ds);
    tu_write("bad.train.rating", "0\t1\t5\t10\n-1\t2\t5\t10\n");
    assert_int_equal(ncf_dataset_load(tu_path("bad"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "bad.train.rating:2: field 1: expected a user id (non-negative integer)"));
    assert_int_equal(ncf_dataset_load(tu_path("nothing"), NULL, &ds, &err), NCF_ERR_IO);
    assert_non_null(strstr(err.msg, "no such file"));
}

/* D1: the largest id is kept across the NCF files. A training file naming a
 * user (13) and an item (9) above every id of the test file used to have
 * its maxima overwritten by the test file's, and the training CSR was
 * written past its end. */
static void test_ncf_ids_across_files(void **state)
{
    tu_write("d1.train.rating", "0\t1\t5\t10\n1\t2\t5\t10\n13\t1\t1\t1\n2\t9\t4\t3\n");
    tu_write("d1.test.rating", "0\t3\t5\t11\n1\t0\t5\t11\n");
    tu_write("d1.test.negative", "(0,3)\t2\t4\n(1,0)\t3\t4\n");
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_load(tu_path("d1"), NULL, &ds, &err), NCF_OK);
    assert_int_equal(ds->n_users, 14);
    assert_int_equal(ds->n_items, 10);
    assert_int_equal(ds->n_train, 4);
    assert_int_equal(ds->train_offsets[14] - ds->train_offsets[13], 1); /* user 13's training row */
    assert_int_equal(ds->train_items[ds->train_offsets[13]], 1);
    assert_int_equal(ds->test.n, 2);
    ncf_dataset_free(ds);
    /* the validation file's ids count too, whichever file is read last */
    tu_write("d1.valid.rating", "20\t0\t5\t12\n");
    assert_int_equal(ncf_dataset_load(tu_path("d1"), NULL, &ds, &err), NCF_OK);
    assert_int_equal(ds->n_users, 21);
    assert_int_equal(ds->valid.n, 1);
    assert_int_equal(ds->train_offsets[21] - ds->train_offsets[13], 1);
    ncf_dataset_free(ds);
    remove(tu_path("d1.valid.rating"));
    /* a user map shorter than the ids the files use is an error, not a smaller table */
    tu_write("d1.user.map", "0\tu0\n1\tu1\n2\tu2\n");
    ds = NULL;
    assert_int_equal(ncf_dataset_load(tu_path("d1"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_null(ds);
    assert_non_null(strstr(err.msg, "d1.user.map: has 3 ids, the data uses 14"));
    remove(tu_path("d1.user.map"));
}

/* Rated ids size the tables (id k is row k), so one far beyond the pairs
 * read is refused at once (fuzz_ncf: id 953498509 in a 150-byte file built
 * a 953-million-row id map, 25 GB); sparse ids within the bound load. */
static void test_ncf_rated_ids_bounded(void **state)
{
    tu_write("rb.train.rating", "0\t1\t5\t1\n0\t2\t5\t2\n1\t1\t5\t3\n953498509\t2\t5\t4\n");
    tu_write("rb.test.rating", "0\t3\t5\t9\n1\t2\t5\t9\n");
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_load(tu_path("rb"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_null(ds);
    assert_non_null(strstr(err.msg, "user id 953498509 is far beyond the 6 interactions read"));
    tu_write("rb.train.rating", "0\t1\t5\t1\n0\t2\t5\t2\n1\t1\t5\t3\n1\t70000\t5\t4\n");
    assert_int_equal(ncf_dataset_load(tu_path("rb"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "item id 70000 is far beyond"));
    tu_write("rb.train.rating", "0\t1\t5\t1\n0\t2\t5\t2\n1\t1\t5\t3\n1\t60000\t5\t4\n");
    assert_int_equal(ncf_dataset_load(tu_path("rb"), NULL, &ds, &err), NCF_OK);
    assert_int_equal(ds->n_items, 60001);
    ncf_dataset_free(ds);
}

/* .test.negative ids never size the item tables: ids continuing the rated
 * items without a gap are items (the NCF authors' ML-1M files list such
 * items), an id beyond is refused naming file, line and id (one id of
 * 2147483646 used to make n_items 2^31); a line with no negatives is a
 * case with none (UBSan: memcpy from NULL). */
static void test_ncf_negative_ids_bounded(void **state)
{
    tu_write("nb.train.rating", "0\t0\t5\t1\n0\t1\t5\t1\n1\t2\t5\t1\n");
    tu_write("nb.test.rating", "0\t2\t5\t2\n1\t3\t5\t2\n");
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    /* 4 and 5 continue the rated items 0..3: six items */
    tu_write("nb.test.negative", "(0,2)\t3\t5\n(1,3)\t4\t0\n");
    assert_int_equal(ncf_dataset_load(tu_path("nb"), NULL, &ds, &err), NCF_OK);
    assert_int_equal(ds->n_items, 6);
    ncf_dataset_free(ds);
    /* 100000 leaves a gap after 3: refused, not 100001 items */
    tu_write("nb.test.negative", "(0,2)\t3\t1\n(1,3)\t4\t100000\n");
    ds = NULL;
    assert_int_equal(ncf_dataset_load(tu_path("nb"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_null(ds);
    if (!strstr(err.msg, "nb.test.negative:2: field 3: item id 100000 is not an item of the data (item ids 0..4"))
        fprintf(stderr, "got: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "nb.test.negative:2: field 3: item id 100000 is not an item of the data (item ids 0..4"));
    tu_write("nb.test.negative", "(0,2)\t2147483646\n(1,3)\t4\n");
    assert_int_equal(ncf_dataset_load(tu_path("nb"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "nb.test.negative:1: field 2: item id 2147483646 is not an item"));
    /* with an item map, its ids are the items: 7 is one, 8 is not */
    tu_write("nb.item.map", "0\ta\n1\tb\n2\tc\n3\td\n4\te\n5\tf\n6\tg\n7\th\n");
    tu_write("nb.test.negative", "(0,2)\t7\n(1,3)\t0\n");
    assert_int_equal(ncf_dataset_load(tu_path("nb"), NULL, &ds, &err), NCF_OK);
    assert_int_equal(ds->n_items, 8);
    ncf_dataset_free(ds);
    tu_write("nb.test.negative", "(0,2)\t7\n(1,3)\t0\t8\n");
    assert_int_equal(ncf_dataset_load(tu_path("nb"), NULL, &ds, &err), NCF_ERR_FORMAT);
    assert_non_null(strstr(err.msg, "nb.test.negative:2: field 3: item id 8 is not an item of the data (item ids 0..7"));
    remove(tu_path("nb.item.map"));
    /* lines without negatives (ncf split --negatives 0 writes them) */
    tu_write("nb.test.negative", "(0,2)\n(1,3)\n");
    ds = NULL;
    assert_int_equal(ncf_dataset_load(tu_path("nb"), NULL, &ds, &err), NCF_OK);
    assert_int_equal(ds->test.n, 2);
    assert_int_equal(ds->test.neg_offsets[2], 0);
    assert_false(ds->negatives_drawn);
    ncf_dataset_free(ds);
    tu_write("nb.test.negative", "(0,2)\t3\n(1,3)\n");
    assert_int_equal(ncf_dataset_load(tu_path("nb"), NULL, &ds, &err), NCF_OK);
    assert_int_equal(ds->test.neg_offsets[1], 1);
    assert_int_equal(ds->test.neg_offsets[2], 1);
    ncf_dataset_free(ds);
}

static void test_drawn_negatives_for_ncf_prefix(void **state)
{
    tu_write("nn.train.rating", "0\t0\t5\t1\n0\t1\t5\t1\n1\t2\t5\t1\n");
    tu_write("nn.test.rating", "0\t2\t5\t2\n1\t3\t5\t2\n");
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.n_negatives = 1;
    ncf_dataset *a = NULL, *b = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_load(tu_path("nn"), &lo, &a, &err), NCF_OK);
    assert_int_equal(ncf_dataset_load(tu_path("nn"), &lo, &b, &err), NCF_OK);
    assert_true(a->negatives_drawn);
    assert_int_equal(a->test.negs[0], 3); /* user 0: not 0, 1 (train) nor 2 (test) */
    assert_memory_equal(a->test.negs, b->test.negs, 2 * sizeof(int32_t));
    ncf_dataset_free(a);
    ncf_dataset_free(b);
}

static void test_remap(void **state)
{
    const char *p = tu_write("rm.tsv", "a\tx\t1\t1\na\ty\t1\t2\nb\ty\t1\t3\nb\tz\t1\t4\n");
    ncf_interactions *x = read_ok(p, NULL);
    ncf_dataset *ds = NULL, *r = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_from_interactions(x, 5, 0, 1, &ds, &err), NCF_OK);
    ncf_idmap *users, *items;
    assert_int_equal(ncf_idmap_create(&users), NCF_OK);
    assert_int_equal(ncf_idmap_create(&items), NCF_OK);
    int32_t idx;
    ncf_idmap_add(users, "b", 1, &idx);
    ncf_idmap_add(items, "z", 1, &idx);
    ncf_idmap_add(items, "y", 1, &idx);
    ncf_idmap_add(items, "x", 1, &idx);
    int32_t dropped = -1;
    assert_int_equal(ncf_dataset_remap(ds, users, items, &r, &dropped, &err), NCF_OK);
    assert_int_equal(dropped, 1); /* user a is unknown */
    assert_int_equal(r->test.n, 1);
    assert_int_equal(r->test.users[0], 0);
    assert_int_equal(r->test.items[0], 0); /* z */
    assert_int_equal(r->n_train, 1);
    assert_int_equal(r->train_items[0], 1); /* y */
    ncf_dataset_free(r);
    ncf_dataset_free(ds);
    ncf_idmap_free(users);
    ncf_idmap_free(items);
    ncf_interactions_free(x);
}

static void test_synth_deterministic(void **state)
{
    ncf_synth_options o;
    ncf_synth_options_default(&o);
    o.n_users = 300;
    o.n_items = 400;
    o.n_interactions = 9000;
    ncf_err err = {{0}};
    assert_int_equal(ncf_synth_write(&o, tu_path("s1.tsv"), &err), NCF_OK);
    assert_int_equal(ncf_synth_write(&o, tu_path("s2.tsv"), &err), NCF_OK);
    size_t n1, n2;
    char *a = tu_read(tu_path("s1.tsv"), &n1), *b = tu_read(tu_path("s2.tsv"), &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    free(a);
    free(b);
    ncf_interactions *x = read_ok(tu_path("s1.tsv"), NULL);
    assert_int_equal(ncf_idmap_size(x->users), 300);
    assert_true(x->n > 6000 && x->n < 13000);
    assert_true(x->has_time);
    ncf_interactions_free(x);
    o.n_interactions = 10; /* fewer than two per user */
    assert_int_equal(ncf_synth_write(&o, tu_path("s3.tsv"), &err), NCF_ERR_ARG);
    assert_false(tu_exists(tu_path("s3.tsv")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_movielens_dat),
        cmocka_unit_test(test_udata_tab),
        cmocka_unit_test(test_csv_header_and_min_rating),
        cmocka_unit_test(test_header_without_timestamps),
        cmocka_unit_test(test_columns_and_sep),
        cmocka_unit_test(test_lists),
        cmocka_unit_test(test_duplicates_count_once),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_not_text),
        cmocka_unit_test(test_layout_reported),
        cmocka_unit_test(test_split_rules),
        cmocka_unit_test(test_validation_split),
        cmocka_unit_test(test_separate_test_file),
        cmocka_unit_test(test_split_no_timestamps_last_line),
        cmocka_unit_test(test_split_write_and_reload),
        cmocka_unit_test(test_ncf_format_checks),
        cmocka_unit_test(test_ncf_ids_across_files),
        cmocka_unit_test(test_ncf_negative_ids_bounded),
        cmocka_unit_test(test_ncf_rated_ids_bounded),
        cmocka_unit_test(test_drawn_negatives_for_ncf_prefix),
        cmocka_unit_test(test_remap),
        cmocka_unit_test(test_synth_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
