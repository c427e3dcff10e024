/* idmap.c — raw string id <-> dense index, an open-addressing hash table over
 * a single character arena. Indices are given in order of first insertion.
 * Pointers returned by ncf_idmap_raw stay valid until the next insertion.
 * Each slot holds an id's index and the upper half of its hash, so a probe
 * compares bytes only when the hashes agree. Not thread-safe to modify. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/data_impl.h"

/* A slot: an id's hash and index + 1 (0: empty), with SHORT set when the
 * id has at most 7 bytes. The hash of such an id is a bijection of its
 * bytes and length, so equal hashes of two short ids mean equal ids, and
 * a probe reads no characters; longer ids are compared byte by byte. */
typedef struct slot {
    uint64_t hash;
    uint64_t meta;
} slot;
#define SHORT (1ull << 63)

struct ncf_idmap {
    int32_t n;          /* number of ids */
    int32_t cap_ids;    /* capacity of offsets */
    size_t *offsets;    /* start of id k in chars; offsets[n] is the end */
    char *chars;        /* NUL-terminated ids back to back */
    size_t n_chars, cap_chars;
    slot *slots;        /* n_slots hash slots */
    size_t n_slots;     /* power of two */
};

/* 64-bit hash of len bytes: for len <= 7 a bijection of (bytes, len) (the
 * bytes and the length packed into one word, then mixed by invertible
 * steps); eight bytes at a time beyond. Only ever compared within this
 * process. */
static uint64_t hash_bytes(const char *s, size_t len)
{
    if (len <= 7) {
        uint64_t w = (uint64_t)len << 56;
        for (size_t k = 0; k < len; k++) w |= (uint64_t)(unsigned char)s[k] << (8 * k);
        return ncf_mix64_(w);
    }
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t k = 0; k < len; k++) w |= (uint64_t)(unsigned char)s[k] << (8 * k);
    return ncf_mix64_(h ^ w);
}

ncf_status ncf_idmap_create(ncf_idmap **out)
{
    ncf_idmap *m = calloc(1, sizeof *m);
    if (!m) return NCF_ERR_NOMEM;
    m->n_slots = 1024;
    m->slots = calloc(m->n_slots, sizeof *m->slots);
    m->offsets = malloc(sizeof *m->offsets);
    if (!m->slots || !m->offsets) {
        free(m->slots);
        free(m->offsets);
        free(m);
        return NCF_ERR_NOMEM;
    }
    m->offsets[0] = 0;
    *out = m;
    return NCF_OK;
}

void ncf_idmap_free(ncf_idmap *m)
{
    if (!m) return;
    free(m->offsets);
    free(m->chars);
    free(m->slots);
    free(m);
}

int32_t ncf_idmap_size(const ncf_idmap *m) { return m->n; }

const char *ncf_idmap_raw(const ncf_idmap *m, int32_t index)
{
    if (index < 0 || index >= m->n) return NULL;
    return m->chars + m->offsets[index];
}

/* The index of raw (hash h), or -1; *pos receives the empty slot where it
 * would go. */
static int32_t lookup(const ncf_idmap *m, const char *raw, size_t len, uint64_t h, size_t *pos)
{
    const size_t mask = m->n_slots - 1;
    const uint64_t short_id = len <= 7 ? SHORT : 0;
    for (size_t p = h & mask;; p = (p + 1) & mask) {
        const slot s = m->slots[p];
        if (!s.meta) {
            *pos = p;
            return -1;
        }
        if (s.hash != h || (s.meta & SHORT) != short_id) continue;
        const int32_t idx = (int32_t)(uint32_t)s.meta - 1;
        if (short_id) return idx;
        const size_t off = m->offsets[idx];
        if (m->offsets[idx + 1] - off == len + 1 && memcmp(m->chars + off, raw, len) == 0) return idx;
    }
}

static slot make_slot(uint64_t h, size_t len, int32_t idx)
{
    return (slot){.hash = h, .meta = (len <= 7 ? SHORT : 0) | (uint64_t)((uint32_t)idx + 1)};
}

int32_t ncf_idmap_find(const ncf_idmap *m, const char *raw, size_t len)
{
    size_t pos;
    return lookup(m, raw, len, hash_bytes(raw, len), &pos);
}

static ncf_status grow_slots(ncf_idmap *m)
{
    size_t n_slots = m->n_slots * 2;
    slot *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return NCF_ERR_NOMEM;
    for (size_t p = 0; p < m->n_slots; p++) { /* the hashes are kept: no id is read again */
        const slot s = m->slots[p];
        if (!s.meta) continue;
        size_t pos = s.hash & (n_slots - 1);
        while (slots[pos].meta) pos = (pos + 1) & (n_slots - 1);
        slots[pos] = s;
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = n_slots;
    return NCF_OK;
}

uint64_t ncf_idmap_hash_(const char *raw, size_t len) { return hash_bytes(raw, len); }

ncf_status ncf_idmap_add(ncf_idmap *m, const char *raw, size_t len, int32_t *index)
{
    return ncf_idmap_add_hashed_(m, raw, len, hash_bytes(raw, len), index);
}

ncf_status ncf_idmap_add_hashed_(ncf_idmap *m, const char *raw, size_t len, uint64_t h, int32_t *index)
{
    size_t pos = 0;
    int32_t found = lookup(m, raw, len, h, &pos);
    if (found >= 0) {
        *index = found;
        return NCF_OK;
    }
    if (m->n == INT32_MAX - 1) return NCF_ERR_ARG;
    if ((size_t)(m->n + 1) * 2 > m->n_slots) {
        ncf_status st = grow_slots(m);
        if (st != NCF_OK) return st;
        lookup(m, raw, len, h, &pos);
    }
    if (m->n == m->cap_ids) {
        int32_t cap = m->cap_ids ? m->cap_ids * 2 : 256;
        if (cap < m->cap_ids || cap > INT32_MAX - 1) cap = INT32_MAX - 1;
        size_t *offs = realloc(m->offsets, ((size_t)cap + 1) * sizeof *offs);
        if (!offs) return NCF_ERR_NOMEM;
        m->offsets = offs;
        m->cap_ids = cap;
    }
    if (m->n_chars + len + 1 > m->cap_chars) {
        size_t cap = m->cap_chars ? m->cap_chars * 2 : 4096;
        while (cap < m->n_chars + len + 1) cap *= 2;
        char *chars = realloc(m->chars, cap);
        if (!chars) return NCF_ERR_NOMEM;
        m->chars = chars;
        m->cap_chars = cap;
    }
    memcpy(m->chars + m->n_chars, raw, len);
    m->chars[m->n_chars + len] = '\0';
    m->n_chars += len + 1;
    m->offsets[m->n + 1] = m->n_chars;
    m->slots[pos] = make_slot(h, len, m->n);
    *index = m->n++;
    return NCF_OK;
}

ncf_status ncf_idmap_clone(const ncf_idmap *m, ncf_idmap **out)
{
    ncf_idmap *c = calloc(1, sizeof *c);
    if (!c) return NCF_ERR_NOMEM;
    c->n = c->cap_ids = m->n;
    c->n_chars = c->cap_chars = m->n_chars;
    c->n_slots = m->n_slots;
    c->offsets = malloc(((size_t)m->n + 1) * sizeof *c->offsets);
    c->chars = malloc(m->n_chars ? m->n_chars : 1);
    c->slots = malloc(m->n_slots * sizeof *c->slots);
    if (!c->offsets || !c->chars || !c->slots) {
        ncf_idmap_free(c);
        return NCF_ERR_NOMEM;
    }
    memcpy(c->offsets, m->offsets, ((size_t)m->n + 1) * sizeof *c->offsets);
    if (m->n_chars) memcpy(c->chars, m->chars, m->n_chars);
    memcpy(c->slots, m->slots, m->n_slots * sizeof *c->slots);
    *out = c;
    return NCF_OK;
}
