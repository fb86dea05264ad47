/*
 * Reservations as the proxy sees them go by (SPC-5 PERSISTENT RESERVE IN /
 * OUT, and the SCSI-2 RESERVE / RELEASE that SPC-2 defined): does a command,
 * its status or its returned data say that a reservation blocking READs of
 * other I_T nexuses may be held on the logical unit?  While one may be, the
 * proxy must not answer READs from its cache: the SAN would answer
 * RESERVATION CONFLICT to a nexus that does not hold it.  Pure functions.
 *
 * Conservative: anything that may create such a reservation sets the flag
 * when it is sent; only a successful release, a CLEAR, or a PERSISTENT
 * RESERVE IN answer that shows none clears it; malformed data never does.
 */
#ifndef ISP_SCSI_RESERVATION_H
#define ISP_SCSI_RESERVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCSI_ST_RESERVATION_CONFLICT 0x18   /* SAM-5 status code */

enum scsi_resv_effect {
    SCSI_RESV_KEEP = 0,    /* says nothing about reservations */
    SCSI_RESV_SET,         /* a READ-blocking reservation may be held */
    SCSI_RESV_CLEAR,       /* none is known to be held any more */
};

/* A command is about to be sent (cdb[0..len), as the transport carries it). */
enum scsi_resv_effect scsi_resv_on_send(const uint8_t *cdb, size_t len);

/* The command completed with SCSI status `status`; data[0..data_len) is what
 * it returned (Data-In actually received; NULL/0 if none). */
enum scsi_resv_effect scsi_resv_on_done(const uint8_t *cdb, size_t len, int status,
                                        const uint8_t *data, size_t data_len);

/* The state kept per logical unit.  `sets` counts the times the flag was set,
 * so that a CLEAR learnt by a command applies only if nothing set the flag
 * after that command was sent (a RESERVE of another session in between). */
struct scsi_resv {
    bool may_be_held;
    uint64_t sets;
};

/* Apply an effect; sets_at_send is r->sets when the command was sent. */
void scsi_resv_apply(struct scsi_resv *r, enum scsi_resv_effect e, uint64_t sets_at_send);

#endif
