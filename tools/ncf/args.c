/* args.c — see args.h. */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

opt_spec *args_find(opt_spec *specs, int n_specs, const char *name)
{
    for (int k = 0; k < n_specs; k++)
        if (strcmp(specs[k].name, name) == 0) return &specs[k];
    return NULL;
}

static opt_spec *last_specs; /* the table args_parse parsed last (single-threaded parsing) */
static int last_n;

int args_given(const char *name)
{
    const opt_spec *s = last_specs ? args_find(last_specs, last_n, name) : NULL;
    return s && s->given;
}

static int choice_index(const char *choices, const char *v)
{
    size_t n = strlen(v);
    int idx = 0;
    for (const char *p = choices;; idx++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return idx;
        if (!bar) return -1;
        p = bar + 1;
    }
}

static int set_value(const char *cmd, opt_spec *s, const char *v)
{
    char *end;
    errno = 0;
    switch (s->kind) {
    case OPT_FLAG: *(int *)s->dst = 1; return 0;
    case OPT_STRING:
        if (*v == '\0') break;
        *(const char **)s->dst = v;
        return 0;
    case OPT_CHOICE: {
        int k = choice_index(s->choices, v);
        if (k < 0) {
            fprintf(stderr, "ncf %s: --%s must be one of %s, got '%s'\n", cmd, s->name, s->choices, v);
            return 2;
        }
        *(int *)s->dst = k;
        return 0;
    }
    case OPT_INT:
    case OPT_I64: {
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno || (double)x < s->min || (double)x > s->max) {
            fprintf(stderr, "ncf %s: --%s needs an integer in [%.0f, %.0f], got '%s'\n", cmd, s->name, s->min,
                    s->max, v);
            return 2;
        }
        if (s->kind == OPT_INT) *(int *)s->dst = (int)x;
        else *(int64_t *)s->dst = (int64_t)x;
        return 0;
    }
    case OPT_U64: {
        if (*v == '-') break;
        unsigned long long x = strtoull(v, &end, 10);
        if (end == v || *end || errno) break;
        *(uint64_t *)s->dst = (uint64_t)x;
        return 0;
    }
    case OPT_DOUBLE: {
        double x = strtod(v, &end);
        if (end == v || *end || errno || !(x >= s->min && x <= s->max)) {
            fprintf(stderr, "ncf %s: --%s needs a number in [%g, %g], got '%s'\n", cmd, s->name, s->min, s->max, v);
            return 2;
        }
        *(double *)s->dst = x;
        return 0;
    }
    }
    fprintf(stderr, "ncf %s: bad value for --%s: '%s'\n", cmd, s->name, v);
    return 2;
}

int args_parse(const char *cmd, int argc, char **argv, opt_spec *specs, int n_specs, const char **pos,
               int max_pos, int *n_pos)
{
    *n_pos = 0;
    last_specs = specs;
    last_n = n_specs;
    for (int k = 0; k < argc; k++) {
        const char *a = argv[k];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return 1;
        if (a[0] != '-' || a[1] == '\0') {
            if (*n_pos >= max_pos) {
                fprintf(stderr, "ncf %s: unexpected argument '%s' (see ncf %s --help)\n", cmd, a, cmd);
                return 2;
            }
            pos[(*n_pos)++] = a;
            continue;
        }
        opt_spec *s = NULL;
        const char *inline_value = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            for (int q = 0; q < n_specs; q++)
                if (strlen(specs[q].name) == len && strncmp(specs[q].name, name, len) == 0) s = &specs[q];
            if (eq) inline_value = eq + 1;
        } else if (a[2] == '\0') {
            for (int q = 0; q < n_specs; q++)
                if (specs[q].short_name == a[1]) s = &specs[q];
        }
        if (!s) {
            fprintf(stderr, "ncf %s: unknown option '%s' (see ncf %s --help)\n", cmd, a, cmd);
            return 2;
        }
        if (s->given) {
            fprintf(stderr, "ncf %s: --%s given twice\n", cmd, s->name);
            return 2;
        }
        s->given = 1;
        if (s->kind == OPT_FLAG) {
            if (inline_value) {
                fprintf(stderr, "ncf %s: --%s takes no value\n", cmd, s->name);
                return 2;
            }
            *(int *)s->dst = 1;
            continue;
        }
        const char *v = inline_value;
        if (!v) {
            if (k + 1 >= argc) {
                fprintf(stderr, "ncf %s: --%s needs a value\n", cmd, s->name);
                return 2;
            }
            v = argv[++k];
        }
        int rc = set_value(cmd, s, v);
        if (rc) return rc;
    }
    return 0;
}

int args_parse_or_help(const char *cmd, int argc, char **argv, opt_spec *specs, int n_specs, const char **pos,
                       int max_pos, int *n_pos, const char *help, const char *help2)
{
    int rc = args_parse(cmd, argc, argv, specs, n_specs, pos, max_pos, n_pos);
    if (rc == 1) {
        fputs(help, stdout);
        if (help2) fputs(help2, stdout);
        return 0;
    }
    return rc ? rc : -1;
}

int args_parse_int_list(const char *s, int32_t *out, int max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 1 || v > 1 << 20 || n >= max) return -1;
        out[n++] = (int32_t)v;
        if (*end == '\0') break;
        if (*end != ',') return -1;
        p = end + 1;
        if (*p == '\0') return -1;
    }
    return n ? n : -1;
}

/* The spec an option argument names ("--name", "--name=v", "-x"), or NULL. */
static opt_spec *spec_of(opt_spec *specs, int n_specs, const char *a)
{
    if (a[0] != '-' || a[1] == '\0') return NULL;
    if (a[1] == '-') {
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (int q = 0; q < n_specs; q++)
            if (strlen(specs[q].name) == len && strncmp(specs[q].name, name, len) == 0) return &specs[q];
        return NULL;
    }
    for (int q = 0; q < n_specs && a[2] == '\0'; q++)
        if (specs[q].short_name == a[1]) return &specs[q];
    return NULL;
}

/* Arguments the option at a[k] spans (1, or 2 with a separate value). */
static int span_of(const opt_spec *s, const char *a, int k, int n)
{
    return s && s->kind != OPT_FLAG && !strchr(a, '=') && k + 1 < n ? 2 : 1;
}

int args_merge(opt_spec *specs, int n_specs, int base_n, char **base, int over_n, char **over, char **out)
{
    int n = 0;
    for (int k = 0; k < base_n;) {
        opt_spec *s = spec_of(specs, n_specs, base[k]);
        const int span = span_of(s, base[k], k, base_n);
        int overridden = 0;
        for (int j = 0; s && j < over_n; j += span_of(spec_of(specs, n_specs, over[j]), over[j], j, over_n))
            if (spec_of(specs, n_specs, over[j]) == s) overridden = 1;
        for (int q = 0; q < span && !overridden; q++) out[n++] = base[k + q];
        k += span;
    }
    for (int k = 0; k < over_n; k++) out[n++] = over[k];
    return n;
}
