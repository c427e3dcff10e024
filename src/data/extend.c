/* extend.c — adds raw ids to a dataset's id maps (ncf_dataset_add_ids): the
 * users and items a warm-started model knows but today's data does not
 * name, so that the new model's id maps are the union. Added users have no
 * training interactions and no test or validation case; added items are
 * never positives (they remain in the catalogue, so they are drawn as
 * negatives like any other item). Changes nothing else. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/own.h"
#include "dist/dist.h"
#include "ncf/data.h"

/* Appends to *map the ids of extra it lacks; returns how many, or -1 out of memory. */
static int32_t add_missing(ncf_idmap *map, const ncf_idmap *extra)
{
    int32_t added = 0;
    for (int32_t k = 0; extra && k < ncf_idmap_size(extra); k++) {
        const char *raw = ncf_idmap_raw(extra, k);
        const size_t len = strlen(raw);
        if (ncf_idmap_find(map, raw, len) >= 0) continue;
        int32_t idx;
        if (ncf_idmap_add(map, raw, len, &idx) != NCF_OK) return -1;
        added++;
    }
    return added;
}

ncf_status ncf_dataset_add_ids(ncf_dataset *ds, const ncf_idmap *users, const ncf_idmap *items, int32_t *added_users,
                               int32_t *added_items, ncf_err *err)
{
    const int32_t u0 = ds->n_users;
    const int32_t nu = add_missing(ds->user_ids, users);
    const int32_t ni = nu < 0 ? -1 : add_missing(ds->item_ids, items);
    if (nu < 0 || ni < 0) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory adding ids");
    if (nu > 0) {
        int64_t *off = realloc(ds->train_offsets, ((size_t)u0 + (size_t)nu + 1) * sizeof *off);
        if (!off) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory adding ids");
        for (int32_t u = u0 + 1; u <= u0 + nu; u++) off[u] = off[u0];
        ds->train_offsets = off;
    }
    ds->n_users = ncf_idmap_size(ds->user_ids);
    ds->n_items = ncf_idmap_size(ds->item_ids);
    if (nu > 0 && ds->own_users) { /* loaded for sharded training: the new users' owner by the shard rule */
        const int S = ds->own_shards;
        uint8_t *own = realloc(ds->own_users, (size_t)ds->n_users + 1);
        int32_t *start = malloc(((size_t)S + 1) * sizeof *start);
        if (own) ds->own_users = own;
        if (!own || !start) {
            free(start);
            return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory adding ids");
        }
        ncf_shard_starts_(ds->train_offsets, ds->n_users, S, start);
        ncf_shard_own_(start, ds->n_users, S, ncf_dist_size_(), ncf_dist_rank_(), own);
        free(start);
    }
    if (added_users) *added_users = nu;
    if (added_items) *added_items = ni;
    return NCF_OK;
}
