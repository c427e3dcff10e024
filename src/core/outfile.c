/* outfile.c — the rule by which every output file is written
 * (include/ncf/outfile.h): a regular or new file through a temporary file
 * in its directory renamed onto it, a symbolic link followed to what it
 * names, a character device or FIFO written directly, anything else
 * refused. It decides from what the path is when opened; it does not guard
 * against the path being swapped for something else meanwhile. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

#define MAX_LINKS 40

struct ncf_outfile {
    FILE *f;
    char *path;   /* as given, for messages */
    char *target; /* the regular file renamed onto at close; NULL when writing directly */
    char *tmp;    /* the temporary file; NULL when writing directly */
};

/* The descriptor that /dev/stdout, /dev/stderr, /dev/fd/N or
 * /proc/self/fd/N names, or -1 for any other path. */
static int fd_of_path(const char *path)
{
    if (strcmp(path, "/dev/stdout") == 0) return 1;
    if (strcmp(path, "/dev/stderr") == 0) return 2;
    const char *p = strncmp(path, "/dev/fd/", 8) == 0          ? path + 8
                    : strncmp(path, "/proc/self/fd/", 14) == 0 ? path + 14
                                                               : NULL;
    if (!p || !*p) return -1;
    int fd = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || fd > 100000000) return -1;
        fd = fd * 10 + (*p - '0');
    }
    return fd;
}

/* Length of the directory part of p, its last '/' included (0 for none). */
static size_t dir_len(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? (size_t)(slash - p) + 1 : 0;
}

/* Follows the symbolic links path names, one after another, to the name
 * of what the last one points at (which may not exist: a dangling link).
 * Returns it malloc'd, or NULL with errno set (ELOOP past MAX_LINKS). A
 * relative link is taken from the link's own directory. */
static char *follow_links(const char *path)
{
    size_t n = strlen(path) + 1;
    char *p = malloc(n);
    if (!p) return NULL;
    memcpy(p, path, n);
    for (int hops = 0;; hops++) {
        struct stat sb;
        if (lstat(p, &sb) != 0) {
            if (errno == ENOENT) return p; /* created at close; a missing directory fails then */
            free(p);
            return NULL;
        }
        if (!S_ISLNK(sb.st_mode)) return p;
        char link[4096];
        ssize_t len = hops < MAX_LINKS ? readlink(p, link, sizeof link) : -1;
        if (len < 0 || (size_t)len >= sizeof link) {
            int e = hops >= MAX_LINKS ? ELOOP : len < 0 ? errno : ENAMETOOLONG;
            free(p);
            errno = e;
            return NULL;
        }
        size_t d = link[0] == '/' ? 0 : dir_len(p);
        char *next = malloc(d + (size_t)len + 1);
        if (!next) {
            free(p);
            return NULL;
        }
        memcpy(next, p, d);
        memcpy(next + d, link, (size_t)len);
        next[d + (size_t)len] = '\0';
        free(p);
        p = next;
    }
}

static const char *kind_of(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a regular file, character device or FIFO";
}

static void free_outfile(ncf_outfile *o)
{
    free(o->path);
    free(o->target);
    free(o->tmp);
    free(o);
}

/* Creates target's temporary file ".NAME.ncf-tmp.PID" next to it; -1 with
 * errno set on failure. */
static int create_tmp(ncf_outfile *o)
{
    const size_t d = dir_len(o->target);
    const char *base = o->target + d;
    size_t n = strlen(o->target) + 32;
    o->tmp = malloc(n);
    if (!o->tmp) return -1;
    snprintf(o->tmp, n, "%.*s.%s.ncf-tmp.%ld", (int)d, o->target, base, (long)getpid());
    int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno == EEXIST) {
        /* a leftover of an earlier process that had this PID (O_EXCL: a
         * link planted there is removed, never followed) */
        unlink(o->tmp);
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    }
    return fd;
}

ncf_status ncf_outfile_open(const char *path, ncf_outfile **out, ncf_err *err)
{
    *out = NULL;
    ncf_outfile *o = calloc(1, sizeof *o);
    size_t n = strlen(path) + 1;
    if (!o || !(o->path = malloc(n))) {
        free(o);
        return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
    }
    memcpy(o->path, path, n);
    int fd, std = fd_of_path(path);
    struct stat sb;
    if (std >= 0) {
        fd = fcntl(std, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
            ncf_fail_(err, NCF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
            goto fail;
        }
    } else if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        if (!S_ISCHR(sb.st_mode) && !S_ISFIFO(sb.st_mode)) {
            ncf_fail_(err, NCF_ERR_IO, "%s: is %s; ncf writes regular files, character devices and FIFOs", path,
                      kind_of(sb.st_mode));
            goto fail;
        }
        fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
            ncf_fail_(err, NCF_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
            goto fail;
        }
    } else {
        o->target = follow_links(path);
        if (!o->target) {
            ncf_fail_(err, NCF_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
            goto fail;
        }
        if (o->target[dir_len(o->target)] == '\0') {
            ncf_fail_(err, NCF_ERR_IO, "%s: names a directory, not a file", path);
            goto fail;
        }
        fd = create_tmp(o);
        if (fd < 0) {
            ncf_fail_(err, NCF_ERR_IO, "%s: cannot create %s: %s", path, o->tmp ? o->tmp : "a temporary file",
                      strerror(errno));
            goto fail;
        }
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        int e = errno;
        close(fd);
        if (o->tmp) unlink(o->tmp);
        ncf_fail_(err, NCF_ERR_IO, "%s: cannot write: %s", path, strerror(e));
        goto fail;
    }
    *out = o;
    return NCF_OK;
fail:
    free_outfile(o);
    return NCF_ERR_IO;
}

FILE *ncf_outfile_stream(ncf_outfile *o) { return o->f; }

const char *ncf_outfile_target_(const ncf_outfile *o) { return o->target; }

ncf_status ncf_outfile_close(ncf_outfile *o, int ok, ncf_err *err)
{
    if (!o) return NCF_OK;
    ncf_status st = ok ? NCF_OK : NCF_ERR_IO;
    /* a stream's error flag stays set after a failed write; flushing again
     * repeats the failure and so brings its errno back */
    errno = 0;
    if (ok && (fflush(o->f) != 0 || ferror(o->f) || (o->tmp && fsync(fileno(o->f)) != 0)))
        st = ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", o->path, errno ? strerror(errno) : "write error");
    if (fclose(o->f) != 0 && st == NCF_OK)
        st = ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", o->path, strerror(errno));
    if (st == NCF_OK && o->tmp && rename(o->tmp, o->target) != 0)
        st = ncf_fail_(err, NCF_ERR_IO, "%s: cannot rename %s onto %s: %s", o->path, o->tmp, o->target,
                       strerror(errno));
    if (st != NCF_OK && o->tmp) unlink(o->tmp);
    free_outfile(o);
    return st;
}
