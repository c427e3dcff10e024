/* idmap.c — raw string id <-> dense index, an open-addressing hash table over
 * a single character arena. Indices are given in order of first insertion.
 * Pointers returned by ncf_idmap_raw stay valid until the next insertion. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ncf/data.h"

struct ncf_idmap {
    int32_t n;          /* number of ids */
    int32_t cap_ids;    /* capacity of offsets */
    size_t *offsets;    /* start of id k in chars */
    char *chars;        /* NUL-terminated ids back to back */
    size_t n_chars, cap_chars;
    int32_t *slots;     /* hash slots: -1 empty, else index */
    size_t n_slots;     /* power of two */
};

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a, then a final mix */
    for (size_t k = 0; k < len; k++) {
        h ^= (unsigned char)s[k];
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

ncf_status ncf_idmap_create(ncf_idmap **out)
{
    ncf_idmap *m = calloc(1, sizeof *m);
    if (!m) return NCF_ERR_NOMEM;
    m->n_slots = 1024;
    m->slots = malloc(m->n_slots * sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NCF_ERR_NOMEM;
    }
    memset(m->slots, 0xff, m->n_slots * sizeof *m->slots);
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

static int same_id(const ncf_idmap *m, int32_t index, const char *raw, size_t len)
{
    const char *s = m->chars + m->offsets[index];
    return strncmp(s, raw, len) == 0 && s[len] == '\0';
}

int32_t ncf_idmap_find(const ncf_idmap *m, const char *raw, size_t len)
{
    size_t mask = m->n_slots - 1;
    for (size_t pos = hash_bytes(raw, len) & mask;; pos = (pos + 1) & mask) {
        int32_t idx = m->slots[pos];
        if (idx < 0) return -1;
        if (same_id(m, idx, raw, len)) return idx;
    }
}

static ncf_status grow_slots(ncf_idmap *m)
{
    size_t n_slots = m->n_slots * 2;
    int32_t *slots = malloc(n_slots * sizeof *slots);
    if (!slots) return NCF_ERR_NOMEM;
    memset(slots, 0xff, n_slots * sizeof *slots);
    for (int32_t k = 0; k < m->n; k++) {
        const char *s = m->chars + m->offsets[k];
        size_t pos = hash_bytes(s, strlen(s)) & (n_slots - 1);
        while (slots[pos] >= 0) pos = (pos + 1) & (n_slots - 1);
        slots[pos] = k;
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = n_slots;
    return NCF_OK;
}

ncf_status ncf_idmap_add(ncf_idmap *m, const char *raw, size_t len, int32_t *index)
{
    int32_t found = ncf_idmap_find(m, raw, len);
    if (found >= 0) {
        *index = found;
        return NCF_OK;
    }
    if (m->n == INT32_MAX) return NCF_ERR_ARG;
    if ((size_t)(m->n + 1) * 2 > m->n_slots) {
        ncf_status st = grow_slots(m);
        if (st != NCF_OK) return st;
    }
    if (m->n == m->cap_ids) {
        int32_t cap = m->cap_ids ? m->cap_ids * 2 : 256;
        if (cap < m->cap_ids) cap = INT32_MAX;
        size_t *offs = realloc(m->offsets, (size_t)cap * sizeof *offs);
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
    m->offsets[m->n] = m->n_chars;
    m->n_chars += len + 1;
    size_t mask = m->n_slots - 1;
    size_t pos = hash_bytes(raw, len) & mask;
    while (m->slots[pos] >= 0) pos = (pos + 1) & mask;
    m->slots[pos] = m->n;
    *index = m->n++;
    return NCF_OK;
}

ncf_status ncf_idmap_clone(const ncf_idmap *m, ncf_idmap **out)
{
    ncf_idmap *c = NULL;
    ncf_status st = ncf_idmap_create(&c);
    for (int32_t k = 0; st == NCF_OK && k < m->n; k++) {
        const char *s = ncf_idmap_raw(m, k);
        int32_t idx;
        st = ncf_idmap_add(c, s, strlen(s), &idx);
    }
    if (st != NCF_OK) {
        ncf_idmap_free(c);
        return st;
    }
    *out = c;
    return NCF_OK;
}
