/* json_text.c — see json_text.h. */
#include "json_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for `extra` more bytes and the NUL; 0, or -1 (oom set) on failure. */
static int grow(jtext *t, size_t extra)
{
    if (t->oom) return -1;
    if (t->n + extra + 1 <= t->cap) return 0;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->n + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            t->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *b = realloc(t->b, cap);
    if (!b) {
        t->oom = 1;
        return -1;
    }
    t->b = b;
    t->cap = cap;
    return 0;
}

void jt_raw(jtext *t, const char *s, size_t n)
{
    if (grow(t, n) != 0) return;
    memcpy(t->b + t->n, s, n);
    t->n += n;
    t->b[t->n] = '\0';
}

void jt_lit(jtext *t, const char *s) { jt_raw(t, s, strlen(s)); }

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when the
 * bytes there do not start one (RFC 3629, Table 3-7 of Unicode). */
static size_t seq_len(const unsigned char *s, size_t n)
{
    const unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;      /* no overlong forms */
        else if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;      /* no overlong forms */
        else if (c == 0xF4) hi = 0x8F; /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xBF) return 0;
    return len;
}

size_t utf8_valid_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t at = 0;
    while (at < n) {
        size_t l = seq_len(u + at, n - at);
        if (!l) break;
        at += l;
    }
    return at;
}

static const char HEX[] = "0123456789abcdef";

void jt_str(jtext *t, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    /* worst case 6 bytes out per byte in ("\u001f"), plus the quotes */
    if (n > ((size_t)-1) / 8 || grow(t, 6 * n + 2) != 0) {
        t->oom = 1;
        return;
    }
    char *o = t->b + t->n;
    *o++ = '"';
    for (size_t at = 0; at < n;) {
        const unsigned char c = u[at];
        size_t l = seq_len(u + at, n - at);
        if (l == 0) { /* not UTF-8: the text \xHH, backslash escaped */
            *o++ = '\\', *o++ = '\\', *o++ = 'x', *o++ = HEX[c >> 4], *o++ = HEX[c & 15];
            at++;
        } else if (c == '"' || c == '\\') {
            *o++ = '\\', *o++ = (char)c;
            at++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': *o++ = '\\', *o++ = 'n'; break;
            case '\t': *o++ = '\\', *o++ = 't'; break;
            case '\r': *o++ = '\\', *o++ = 'r'; break;
            default: *o++ = '\\', *o++ = 'u', *o++ = '0', *o++ = '0', *o++ = HEX[c >> 4], *o++ = HEX[c & 15];
            }
            at++;
        } else {
            memcpy(o, u + at, l);
            o += l;
            at += l;
        }
    }
    *o++ = '"';
    t->n = (size_t)(o - t->b);
    t->b[t->n] = '\0';
}

void jt_num(jtext *t, double v)
{
    if (!isfinite(v)) {
        jt_lit(t, "null");
        return;
    }
    char buf[40];
    int w = snprintf(buf, sizeof buf, "%.9g", v);
    if (w < 0 || (size_t)w >= sizeof buf - 2) {
        t->oom = 1; /* cannot happen for a finite double */
        return;
    }
    if (!strpbrk(buf, ".e")) memcpy(buf + w, ".0", 3), w += 2;
    jt_raw(t, buf, (size_t)w);
}

char *jt_take(jtext *t)
{
    if (!t->oom && !t->b) grow(t, 0); /* nothing appended: "" */
    char *b = t->oom ? NULL : t->b;
    if (b) b[t->n] = '\0';
    else free(t->b);
    t->b = NULL;
    t->n = t->cap = 0;
    t->oom = 0;
    return b;
}

void jt_free(jtext *t)
{
    free(t->b);
    t->b = NULL;
    t->n = t->cap = 0;
    t->oom = 0;
}

char *utf8_clean(const char *s, size_t n)
{
    if (n > ((size_t)-1) / 4 - 1) return NULL;
    const unsigned char *u = (const unsigned char *)s;
    char *o = malloc(4 * n + 1), *p = o;
    if (!o) return NULL;
    for (size_t at = 0; at < n;) {
        size_t l = seq_len(u + at, n - at);
        if (l == 0) {
            *p++ = '\\', *p++ = 'x', *p++ = HEX[u[at] >> 4], *p++ = HEX[u[at] & 15];
            at++;
        } else {
            memcpy(p, u + at, l);
            p += l;
            at += l;
        }
    }
    *p = '\0';
    return o;
}
