/* args.h — table-driven long-option parsing for the ncf subcommands.
 * Numbers go through strtol/strtod with full-string and range checks; an
 * unknown option, a missing or bad value is a usage error (exit 2). */
#ifndef NCF_TOOL_ARGS_H
#define NCF_TOOL_ARGS_H

#include <stdint.h>

typedef enum opt_kind {
    OPT_FLAG,   /* int, set to 1 */
    OPT_INT,    /* int in [min, max] */
    OPT_I64,    /* int64_t in [min, max] */
    OPT_U64,    /* uint64_t */
    OPT_DOUBLE, /* double in [min, max] */
    OPT_STRING, /* const char * */
    OPT_CHOICE  /* int: index into choices "a|b|c" */
} opt_kind;

typedef struct opt_spec {
    const char *name;  /* long name without dashes */
    char short_name;   /* 0 for none */
    opt_kind kind;
    void *dst;
    double min, max;
    const char *choices;
    int given;         /* set by the parser */
} opt_spec;

/* Parses argv[0..argc) (after the subcommand). Positional arguments are
 * stored in pos (up to max_pos). Returns 0 on success, 1 when --help was
 * asked, 2 on a usage error (message printed to stderr as "ncf CMD: ..."). */
int args_parse(const char *cmd, int argc, char **argv, opt_spec *specs, int n_specs, const char **pos,
               int max_pos, int *n_pos);

/* args_parse plus the usual handling: returns -1 to go on, or the exit
 * status the command should return (0 after printing help and help2, which
 * may be NULL; 2 after a usage error). */
int args_parse_or_help(const char *cmd, int argc, char **argv, opt_spec *specs, int n_specs, const char **pos,
                       int max_pos, int *n_pos, const char *help, const char *help2);

/* The spec named name (for .given), or NULL. */
opt_spec *args_find(opt_spec *specs, int n_specs, const char *name);

/* Merges two argument lists parsed by the same specs: base's options that
 * over does not give (with their values), then all of over. out holds
 * base_n + over_n entries; returns how many it got. Positional arguments
 * of base are kept. */
int args_merge(opt_spec *specs, int n_specs, int base_n, char **base, int over_n, char **over, char **out);

/* 1 when the option table args_parse parsed last has an option `name` and
 * the command line gave it, else 0: lets shared code (the data options)
 * follow a command's own flags such as --quiet. The table must still be
 * alive (the commands' tables live until they return). */
int args_given(const char *name);

/* Parses "64,32,16,8" into out (at most max); returns the count or -1. */
int args_parse_int_list(const char *s, int32_t *out, int max);

#endif
