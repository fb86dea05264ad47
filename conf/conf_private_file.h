/*
 * Files a configuration names (internal to conf/): the stats endpoint's
 * token and TLS private key.  Secrets must be readable by their owner only;
 * these checks run at every load (--check-config, start, reload).  Pure:
 * reads files, nothing else.
 */
#ifndef ISP_CONF_PRIVATE_FILE_H
#define ISP_CONF_PRIVATE_FILE_H

#include <stddef.h>
#include <sys/stat.h>

#define CF_TOKEN_MIN 16         /* bytes: a token anyone could guess protects nothing */
#define CF_TOKEN_MAX 1024

/* What a file of secrets must not let group and others do: read or write
 * it (execute bits give nothing away). */
#define CF_GROUP_OTHER_RW (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)

enum cf_private_mode {
    CF_PRIVATE_OK = 0,          /* a regular file with none of the forbidden bits */
    CF_PRIVATE_NOT_REGULAR,
    CF_PRIVATE_SHARED,          /* a forbidden bit is set */
};

/* The one check of a private file's mode (st_mode of stat or fstat): a
 * regular file with none of the bits of forbidden (CF_GROUP_OTHER_RW, or
 * more).  Callers word the refusal. */
enum cf_private_mode cf_private_mode(mode_t mode, mode_t forbidden);

/* path is absolute and names (through symbolic links) a regular file that
 * neither its group nor others may read or write.  0, or -1 with the reason
 * in why. */
int cf_check_private_file(const char *path, char *why, size_t why_len);

/* The token in such a file: its content without surrounding white space,
 * CF_TOKEN_MIN..CF_TOKEN_MAX printable ASCII bytes, no white space inside
 * (it travels in an HTTP header).  0 with *out malloc'ed, or -1 with the
 * reason in why. */
int cf_read_token(const char *path, char **out, char *why, size_t why_len);

#endif
