/* warm.c — warm starts (ncf_model_init_warm): a model created for today's
 * data takes over an earlier model's rows for every user and item that model
 * knows by raw id, and all its layers; rows of new users and items keep their
 * fresh initialisation. Does not touch the id maps (ncf_dataset_add_ids makes
 * them the union before the model is created). */
#include <string.h>

#include "core/core.h"
#include "model/model_impl.h"

/* Copies old's rows of one side's tables into m, row by row through the raw
 * ids; returns how many rows of m were found in old. */
static int32_t carry_side(ncf_model *m, const ncf_model *old, int side)
{
    const ncf_idmap *ids = side ? m->items : m->users, *old_ids = side ? old->items : old->users;
    const int32_t n = side ? m->cfg.n_items : m->cfg.n_users;
    int32_t carried = 0;
    for (int32_t r = 0; r < n; r++) {
        const char *raw = ncf_idmap_raw(ids, r);
        const int32_t o = ncf_idmap_find(old_ids, raw, strlen(raw));
        if (o < 0) continue;
        carried++;
        for (int t = 0; t < NCF_TABLES; t++) {
            const ncf_table *src = &old->tab[t];
            ncf_table *dst = &m->tab[t];
            if (!dst->w || ncf_table_is_item_(t) != side) continue;
            memcpy(dst->w + (size_t)r * (size_t)dst->stride, src->w + (size_t)o * (size_t)src->stride,
                   (size_t)dst->dim * sizeof(float));
        }
    }
    return carried;
}

ncf_status ncf_model_init_warm(ncf_model *m, const ncf_model *old, int32_t *carried_users, int32_t *carried_items,
                               ncf_err *err)
{
    const ncf_model_config *a = &old->cfg, *b = &m->cfg;
    if (a->type != b->type)
        return ncf_fail_(err, NCF_ERR_ARG, "the initial model is %s, this one %s", ncf_model_type_name(a->type),
                         ncf_model_type_name(b->type));
    if (a->factors != b->factors || a->mlp_embed != b->mlp_embed)
        return ncf_fail_(err, NCF_ERR_ARG,
                         "the initial model has %d factors and MLP embeddings of %d, this one %d and %d", a->factors,
                         a->mlp_embed, b->factors, b->mlp_embed);
    if (a->n_hidden != b->n_hidden || memcmp(a->hidden, b->hidden, (size_t)a->n_hidden * sizeof a->hidden[0]) != 0)
        return ncf_fail_(err, NCF_ERR_ARG, "the initial model's hidden layers (%d of them) differ from this one's (%d)",
                         a->n_hidden, b->n_hidden);
    if (a->gmf_activation != b->gmf_activation)
        return ncf_fail_(err, NCF_ERR_ARG, "the initial model's GMF activation differs from this one's");
    if (!m->users || !m->items || !old->users || !old->items)
        return ncf_fail_(err, NCF_ERR_ARG, "a warm start needs both models' raw ids (attach the data first)");
    const int32_t cu = carry_side(m, old, 0), ci = carry_side(m, old, 1);
    memcpy(m->dense, old->dense, m->n_dense * sizeof(float)); /* same shapes, same layout */
    ncf_model_sync_(m);
    if (carried_users) *carried_users = cu;
    if (carried_items) *carried_items = ci;
    return NCF_OK;
}
