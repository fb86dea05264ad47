/*
 * Reading a configuration file or auth_file whole: size bound, no NUL bytes,
 * and for auth_file (it holds CHAP secrets) a regular file that only its
 * owner may read.  The permission check is made on the open descriptor, so
 * the file checked is the file read.
 */
#include "conf_internal.h"
#include "conf_private_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static void wipe_free(char *buf, size_t n)
{
    if (buf)
        explicit_bzero(buf, n);
    free(buf);
}

/* Checks of auth_file: 0, or -1 with the reason in err. */
static int check_secret_file(int fd, const char *path, char *err, size_t err_len)
{
    struct stat st;

    if (fstat(fd, &st) != 0) {
        set_err(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Stricter than CF_GROUP_OTHER_RW: no bit at all for group and others. */
    switch (cf_private_mode(st.st_mode, S_IRWXG | S_IRWXO)) {
    case CF_PRIVATE_OK:
        return 0;
    case CF_PRIVATE_NOT_REGULAR:
        set_err(err, err_len, "%s is not a regular file", path);
        break;
    case CF_PRIVATE_SHARED:
        set_err(err, err_len, "%s is readable by group or others (chmod 600)", path);
        break;
    }
    return -1;
}

int conf_read_file(const char *path, bool secret, char **text, char *err, size_t err_len)
{
    *text = NULL;
    /* O_NONBLOCK: a FIFO named as auth_file must not hang the open. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | (secret ? O_NONBLOCK : 0));
    if (fd < 0) {
        set_err(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (secret && check_secret_file(fd, path, err, err_len) != 0) {
        close(fd);
        return -1;
    }
    char *buf = malloc(CONF_MAX_BYTES + 2);
    size_t n = 0;
    int rd_errno = 0;
    while (buf && n <= CONF_MAX_BYTES) {
        ssize_t r = read(fd, buf + n, CONF_MAX_BYTES + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rd_errno = errno;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf || rd_errno || n > CONF_MAX_BYTES) {
        if (!buf)
            set_err(err, err_len, "%s: out of memory", path);
        else if (rd_errno)
            set_err(err, err_len, "%s: %s", path, strerror(rd_errno));
        else
            set_err(err, err_len, "%s: file too large (more than %u bytes)", path,
                    CONF_MAX_BYTES);
        wipe_free(buf, n);
        return -1;
    }
    buf[n] = '\0';
    char *nul = memchr(buf, '\0', n);
    if (nul) {
        unsigned line = 1;
        for (char *q = buf; q < nul; q++)
            line += *q == '\n';
        set_err(err, err_len, "%s:%u: NUL byte in file", path, line);
        wipe_free(buf, n);
        return -1;
    }
    *text = buf;
    return 0;
}

/* Wiped: it may hold CHAP secrets (auth_file, or an old configuration's
 * backend_chap_password, which is refused). */
void conf_free_text(char *text)
{
    wipe_free(text, text ? strlen(text) : 0);
}
