/* Files a configuration names: the token and the TLS key (see conf_private_file.h). */
#include "conf_private_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read more than a token with white space around it may take: a larger
 * file is not a token file. */
#define READ_MAX 4096

enum cf_private_mode cf_private_mode(mode_t mode, mode_t forbidden)
{
    if (!S_ISREG(mode))
        return CF_PRIVATE_NOT_REGULAR;
    return mode & forbidden ? CF_PRIVATE_SHARED : CF_PRIVATE_OK;
}

static int check_stat(const struct stat *st, char *why, size_t why_len)
{
    switch (cf_private_mode(st->st_mode, CF_GROUP_OTHER_RW)) {
    case CF_PRIVATE_OK:
        return 0;
    case CF_PRIVATE_NOT_REGULAR:
        snprintf(why, why_len, "not a regular file");
        break;
    case CF_PRIVATE_SHARED:
        snprintf(why, why_len, "mode %04o lets group or others read or write it (chmod 600)",
                 (unsigned)(st->st_mode & 07777));
        break;
    }
    return -1;
}

static int check_absolute(const char *path, char *why, size_t why_len)
{
    if (path[0] == '/')
        return 0;
    snprintf(why, why_len, "not an absolute path");
    return -1;
}

int cf_check_private_file(const char *path, char *why, size_t why_len)
{
    struct stat st;

    if (check_absolute(path, why, why_len) < 0)
        return -1;
    if (stat(path, &st) != 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        return -1;
    }
    return check_stat(&st, why, why_len);
}

static bool token_char(char ch)
{
    return ch > ' ' && ch < 0x7f;
}

static bool white(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* The token within buf[0..n), or -1 with why. */
static int take_token(const char *buf, size_t n, char **out, char *why, size_t why_len)
{
    size_t s = 0, e = n;

    while (s < e && white(buf[s]))
        s++;
    while (e > s && white(buf[e - 1]))
        e--;
    for (size_t i = s; i < e; i++) {
        if (!token_char(buf[i])) {
            snprintf(why, why_len, "the token holds white space or a byte that is not "
                     "printable ASCII (at byte %zu)", i);
            return -1;
        }
    }
    if (e - s < CF_TOKEN_MIN || e - s > CF_TOKEN_MAX) {
        snprintf(why, why_len, "the token is %zu bytes long (%d..%d)", e - s, CF_TOKEN_MIN,
                 CF_TOKEN_MAX);
        return -1;
    }
    if (!(*out = strndup(buf + s, e - s))) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    return 0;
}

int cf_read_token(const char *path, char **out, char *why, size_t why_len)
{
    char buf[READ_MAX + 1];
    struct stat st;
    size_t n = 0;
    int rc = -1;

    *out = NULL;
    if (check_absolute(path, why, why_len) < 0)
        return -1;
    /* O_NONBLOCK: a FIFO put in its place must not hang the load. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        goto out;
    }
    if (check_stat(&st, why, why_len) < 0)
        goto out;
    while (n < sizeof(buf)) {
        ssize_t k = read(fd, buf + n, sizeof(buf) - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(why, why_len, "%s", strerror(errno));
            goto out;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (n > READ_MAX)
        snprintf(why, why_len, "larger than %d bytes: not a token file", READ_MAX);
    else
        rc = take_token(buf, n, out, why, why_len);
out:
    explicit_bzero(buf, sizeof(buf));
    close(fd);
    return rc;
}
