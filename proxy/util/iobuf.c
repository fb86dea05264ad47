/* Reference-counted data buffers (see iobuf.h). */
#include "iobuf.h"

#include <stdlib.h>

struct iobuf *iobuf_new(size_t len)
{
    struct iobuf *b = malloc(sizeof(*b) + len);
    if (b) {
        b->refs = 1;
        b->len = len;
    }
    return b;
}

struct iobuf *iobuf_ref(struct iobuf *b)
{
    b->refs++;
    return b;
}

void iobuf_unref(struct iobuf *b)
{
    if (b && --b->refs == 0)
        free(b);
}

void iobuf_unref_cb(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    iobuf_unref(arg);
}
