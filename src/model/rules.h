/* rules.h — business rules (ncf_rules, model.h) in the form the top-K loops
 * use: the allow-list and deny-list sorted and without repeats, a question
 * "may item i be returned (for user u)?", and a walk that yields, in
 * increasing order, the items one user's top K may hold. Used by the scorer
 * (recommendations) and by similar.c (similar items). Knows nothing of
 * scores or heaps. Not part of the public API.
 *
 * What an item must pass, in this order: it is in `only` (when there is an
 * allow-list), it is not in `exclude`, and, unless include_seen, it is not
 * one of the user's training items (m->seen, sorted per user). Nothing here
 * allocates per user: a walk is a few cursors on the caller's stack. */
#ifndef NCF_MODEL_RULES_H
#define NCF_MODEL_RULES_H

#include <stdint.h>

#include "model/model_impl.h"

typedef struct ncf_filter_ {
    const int32_t *only;    /* sorted, no repeats; NULL: every item allowed */
    int32_t n_only;
    const int32_t *exclude; /* sorted, no repeats (NULL when empty) */
    int32_t n_exclude;
    int include_seen;
    int32_t *owned;         /* the copies made of lists that were not sorted */
} ncf_filter_;

/* Prepares r (NULL: the default rules) for a model of n_items items: lists
 * already sorted without repeats are used in place (f borrows them, so
 * they must outlive f), others are copied and sorted. NCF_ERR_ARG when an
 * index is out of range or a count negative, NCF_ERR_NOMEM; f is then
 * empty (ncf_filter_free_ is still safe). */
ncf_status ncf_filter_init_(ncf_filter_ *f, const ncf_rules *r, int32_t n_items);
void ncf_filter_free_(ncf_filter_ *f);

/* 1 when the rules' lists allow item i (only and exclude; not the user's
 * training items). O(log list length). */
int ncf_filter_allows_item_(const ncf_filter_ *f, int32_t i);

/* 1 when item i may be returned for user u (u < 0: no user, so no training
 * items to leave out): the lists allow it and, unless include_seen, u did
 * not have it in training. O(log) per question; the loops over all items
 * use a walk instead. */
int ncf_filter_allows_(const ncf_filter_ *f, const ncf_model *m, int32_t u, int32_t i);

/* The items that may be returned for one user, in increasing order. */
typedef struct ncf_walk_ {
    const ncf_filter_ *f;
    const int32_t *seen; /* the user's training items, sorted (NULL: none or include_seen) */
    int64_t n_seen, sp;  /* their count, and the cursor in them */
    int64_t ep;          /* cursor in f->exclude */
    int64_t next;        /* the next item (no allow-list) or position in f->only */
    int32_t n_items;
} ncf_walk_;

/* Starts a walk for user u of m (u < 0: no user). */
void ncf_walk_start_(ncf_walk_ *w, const ncf_filter_ *f, const ncf_model *m, int32_t u);

/* Writes the next up to cap items of the walk to out; returns how many
 * (0: the walk is over). */
static inline int ncf_walk_next_(ncf_walk_ *w, int32_t *out, int cap)
{
    const ncf_filter_ *f = w->f;
    int n = 0;
    if (!f->only && !f->n_exclude) { /* no lists: every item but the training ones */
        for (; n < cap && w->next < w->n_items; w->next++) {
            const int32_t i = (int32_t)w->next;
            while (w->sp < w->n_seen && w->seen[w->sp] < i) w->sp++;
            if (w->sp < w->n_seen && w->seen[w->sp] == i) continue;
            out[n++] = i;
        }
        return n;
    }
    while (n < cap) {
        int32_t i;
        if (f->only) {
            if (w->next >= f->n_only) break;
            i = f->only[w->next++];
        } else {
            if (w->next >= w->n_items) break;
            i = (int32_t)w->next++;
        }
        while (w->ep < f->n_exclude && f->exclude[w->ep] < i) w->ep++;
        if (w->ep < f->n_exclude && f->exclude[w->ep] == i) continue;
        while (w->sp < w->n_seen && w->seen[w->sp] < i) w->sp++;
        if (w->sp < w->n_seen && w->seen[w->sp] == i) continue;
        out[n++] = i;
    }
    return n;
}

/* The items the lists allow (not looking at any user's training items), in
 * increasing order, into a new array *out of *n items (free()); *out is
 * NULL with *n = n_items when every item is allowed. NCF_ERR_NOMEM. */
ncf_status ncf_filter_items_(const ncf_filter_ *f, int32_t n_items, int32_t **out, int32_t *n);

#endif
