/* synth.c — a deterministic generator of realistic implicit feedback for
 * demos and scale tests: item popularity follows a power law, items belong
 * to latent taste groups, each user prefers one to three groups and draws
 * most interactions from them (the rest from overall popularity), activity
 * per user is log-normal, and each user's interactions carry increasing
 * timestamps. Raw ids are strings ("u17", "i42"). Writes the
 * user TAB item TAB rating TAB timestamp format read by ncf_interactions_read. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/streams.h"
#include "data/data_impl.h"

void ncf_synth_options_default(ncf_synth_options *o)
{
    o->n_users = 2000;
    o->n_items = 1500;
    o->n_interactions = 150000;
    o->n_clusters = 24;
    o->zipf = 0.9;
    o->focus = 0.8;
    o->seed = 1;
}

/* index of the first cdf entry > x (cdf increasing, last entry = total) */
static int32_t pick(const double *cdf, int32_t n, double x)
{
    int32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

ncf_status ncf_synth_write(const ncf_synth_options *o, const char *path, ncf_err *err)
{
    if (o->n_users < 1 || o->n_items < 4 || o->n_clusters < 1 || o->n_clusters > o->n_items ||
        o->n_interactions < 2 * (int64_t)o->n_users || !(o->zipf >= 0.0 && o->zipf <= 3.0) ||
        !(o->focus >= 0.0 && o->focus <= 1.0))
        return ncf_fail_(err, NCF_ERR_ARG,
                         "synth needs users >= 1, items >= 4, 1 <= clusters <= items, interactions >= 2 x users, "
                         "zipf in [0, 3], focus in [0, 1]");
    if (o->n_interactions / o->n_users > o->n_items / 2)
        return ncf_fail_(err, NCF_ERR_ARG, "synth: %lld interactions over %d users leaves too few unseen items of %d",
                         (long long)o->n_interactions, o->n_users, o->n_items);
    const int32_t I = o->n_items, K = o->n_clusters;
    ncf_status st = NCF_OK;
    double *pop = malloc((size_t)I * sizeof *pop), *gcdf = malloc((size_t)I * sizeof *gcdf);
    int32_t *perm = malloc((size_t)I * sizeof *perm), *citems = malloc((size_t)I * sizeof *citems);
    int32_t *coff = calloc((size_t)K + 1, sizeof *coff), *cluster = malloc((size_t)I * sizeof *cluster);
    double *ccdf = malloc((size_t)I * sizeof *ccdf);
    uint32_t *mark = calloc((size_t)I, sizeof *mark);
    int32_t *picked = malloc((size_t)I * sizeof *picked);
    ncf_outfile *out = NULL;
    FILE *f = NULL;
    if (!pop || !gcdf || !perm || !citems || !coff || !cluster || !ccdf || !mark || !picked) {
        st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
        goto done;
    }
    ncf_rng rng;
    ncf_rng_seed_(&rng, o->seed, NCF_STREAM_SYNTH, 0);
    /* popularity rank is a random permutation of the items */
    for (int32_t i = 0; i < I; i++) perm[i] = i;
    for (int32_t i = I - 1; i > 0; i--) {
        int32_t j = (int32_t)ncf_rng_below_(&rng, (uint32_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    double total = 0.0;
    for (int32_t r = 0; r < I; r++) pop[perm[r]] = 1.0 / pow((double)r + 1.0, o->zipf);
    for (int32_t i = 0; i < I; i++) {
        total += pop[i];
        gcdf[i] = total;
        cluster[i] = (int32_t)ncf_rng_below_(&rng, (uint32_t)K);
        coff[cluster[i] + 1]++;
    }
    for (int32_t c = 0; c < K; c++) coff[c + 1] += coff[c];
    {
        int32_t *fill = malloc((size_t)K * sizeof *fill);
        if (!fill) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
            goto done;
        }
        memcpy(fill, coff, (size_t)K * sizeof *fill);
        for (int32_t i = 0; i < I; i++) citems[fill[cluster[i]]++] = i;
        free(fill);
    }
    for (int32_t c = 0; c < K; c++) {
        double acc = 0.0;
        for (int32_t k = coff[c]; k < coff[c + 1]; k++) ccdf[k] = (acc += pop[citems[k]]);
    }
    if (ncf_outfile_open(path, &out, err) != NCF_OK) {
        st = NCF_ERR_IO;
        goto done;
    }
    f = ncf_outfile_stream(out);
    const double mean = (double)o->n_interactions / o->n_users, sigma = 0.8;
    const int32_t cap = I / 2;
    for (int32_t u = 0; u < o->n_users; u++) {
        ncf_rng ur;
        ncf_rng_seed_(&ur, o->seed, NCF_STREAM_SYNTH_USER, (uint64_t)u);
        int32_t n = (int32_t)llround(mean * exp(sigma * ncf_rng_normal_(&ur) - 0.5 * sigma * sigma));
        if (n < 2) n = 2;
        if (n > cap) n = cap;
        int32_t fav[3];
        int nfav = 1 + (int)ncf_rng_below_(&ur, 3);
        for (int k = 0; k < nfav; k++) fav[k] = (int32_t)ncf_rng_below_(&ur, (uint32_t)K);
        int64_t t = 946684800 + (int64_t)ncf_rng_below_(&ur, 86400u * 365u);
        int32_t got = 0;
        for (int attempt = 0; got < n && attempt < 20 * n; attempt++) {
            int32_t item;
            int in_taste = ncf_rng_uniform_(&ur) < o->focus;
            if (in_taste) {
                /* later picks lean towards the first favourite: a drift the
                 * latest-item split can pick up */
                int32_t c = fav[ncf_rng_uniform_(&ur) < 0.5 + 0.4 * got / n ? 0 : ncf_rng_below_(&ur, (uint32_t)nfav)];
                if (coff[c + 1] == coff[c]) continue;
                int32_t b = coff[c], e = coff[c + 1];
                double x = ncf_rng_uniform_(&ur) * ccdf[e - 1];
                item = citems[b + pick(ccdf + b, e - b, x)];
            } else {
                item = pick(gcdf, I, ncf_rng_uniform_(&ur) * total);
            }
            if (mark[item] == (uint32_t)u + 1) continue;
            mark[item] = (uint32_t)u + 1;
            picked[got++] = item;
            t += 60 + (int64_t)ncf_rng_below_(&ur, 86400u * 3u);
            int rating = 2 + (int)ncf_rng_below_(&ur, 3) + (in_taste ? 1 : 0);
            if (fprintf(f, "u%d\ti%d\t%d\t%lld\n", u + 1, item + 1, rating, (long long)t) < 0) {
                /* a full disk: say why (errno is the failed write's), stop writing */
                st = ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
                goto done;
            }
        }
    }
    st = ncf_outfile_close(out, 1, err); /* reports a failed write */
    out = NULL;
done:
    ncf_outfile_close(out, 0, NULL);
    free(pop);
    free(gcdf);
    free(perm);
    free(citems);
    free(coff);
    free(cluster);
    free(ccdf);
    free(mark);
    free(picked);
    return st;
}
