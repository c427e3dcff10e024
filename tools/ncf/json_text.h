/* json_text.h — JSON text written straight into a growing buffer, for the
 * answers of `ncf serve` (cmd_serve.c), and the UTF-8 checks that keep that
 * text valid JSON whatever bytes a client or a model file holds.
 *
 * Why not jansson for the answers: a jansson tree costs a few hundred bytes
 * per recommended item and refuses (returns NULL for) invalid UTF-8 and
 * non-finite numbers, which callers tend to drop silently. Here every string
 * is checked and escaped, a non-finite number is written as null, and the
 * only failure is running out of memory, which the buffer remembers.
 * Parsing JSON is not done here (cmd_serve uses jansson for that). */
#ifndef NCF_TOOL_JSON_TEXT_H
#define NCF_TOOL_JSON_TEXT_H

#include <stddef.h>

/* A growing, NUL-terminated text. Zero-initialise it ({0}); oom is set
 * (and every later append ignored) when an allocation fails. */
typedef struct jtext {
    char *b;
    size_t n, cap;
    int oom;
} jtext;

/* Appends n bytes as they are (the caller vouches they are valid JSON). */
void jt_raw(jtext *t, const char *s, size_t n);
/* Appends a NUL-terminated piece as it is. */
void jt_lit(jtext *t, const char *s);
/* Appends s (n bytes) as a JSON string, quotes included: '"', '\' and
 * control characters escaped; a byte that is not part of valid UTF-8 is
 * written as the four characters \xHH (so the text stays valid JSON and a
 * reader sees which byte it was). */
void jt_str(jtext *t, const char *s, size_t n);
/* Appends v as a JSON number with 9 significant digits ("%.9g", with ".0"
 * added when that looks like an integer, as jansson writes reals); null
 * when v is NaN or infinite (JSON has no such numbers). */
void jt_num(jtext *t, double v);
/* Hands over the text (caller frees); NULL when an allocation failed. The
 * jtext is empty afterwards. */
char *jt_take(jtext *t);
/* Frees the text (for error paths). */
void jt_free(jtext *t);

/* Length of the longest prefix of s (n bytes) that is valid UTF-8: no
 * overlong forms, no surrogates, nothing above U+10FFFF, no NUL. Equal to
 * n when the whole string is valid. */
size_t utf8_valid_len(const char *s, size_t n);

/* A malloc'd copy of s (n bytes) that is valid UTF-8: invalid bytes become
 * the text \xHH, as in jt_str. NULL when out of memory. */
char *utf8_clean(const char *s, size_t n);

#endif
