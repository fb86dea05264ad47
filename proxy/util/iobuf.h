/*
 * Reference-counted data buffers.  A READ's buffer is filled by libiscsi and
 * then referenced, slice by slice, by the Data-In PDUs in the socket's output
 * queue (evbuffer_add_reference), so backend data reaches the initiator with
 * no copy; the last reference frees it.
 */
#ifndef ISP_IOBUF_H
#define ISP_IOBUF_H

#include <stddef.h>
#include <stdint.h>

struct iobuf {
    unsigned refs;
    size_t len;
    uint8_t data[];
};

struct iobuf *iobuf_new(size_t len);
struct iobuf *iobuf_ref(struct iobuf *b);
void iobuf_unref(struct iobuf *b);
/* Signature of an evbuffer reference cleanup function. */
void iobuf_unref_cb(const void *data, size_t len, void *arg);

#endif
