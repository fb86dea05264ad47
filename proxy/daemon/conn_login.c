/*
 * Login phase of a frontend connection: Login PDUs go through the pure
 * state machine (iscsi_login.c); when a normal session is about to enter
 * Full Feature Phase, the backend session is logged in first, and the final
 * Login Response reflects its outcome (docs/ARCHITECTURE.md, "Sessions").
 */
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>

#include "backend.h"
#include "health.h"
#include "iscsi_chap.h"
#include "conn.h"
#include "log.h"
#include "server.h"

/* The access rules of the login's target, or discovery's (conf.h). */
static const struct conf_access *login_access(const struct conn *c, const char *target_name,
                                              const struct conf_target **target)
{
    const struct conf *cf = c->proxy->conf;

    *target = NULL;
    if (!target_name)
        return &cf->discovery;
    *target = conf_find_target(cf, target_name);
    return *target ? &(*target)->access : NULL;
}

static bool peer_address(const struct conn *c, struct sockaddr_storage *ss)
{
    socklen_t len = sizeof(*ss);

    return getpeername(bufferevent_getfd(c->bev), (struct sockaddr *)ss, &len) == 0;
}

/*
 * Admission (docs/ARCHITECTURE.md, "Who may log in"): the target must be
 * one of ours (0x0203), the source address and the InitiatorName allowed by
 * its rules (0x0202), and CHAP is required when it names accounts.
 * Discovery sessions follow the discovery rules.
 */
static uint16_t admit_login(void *ctx, const char *target_name, const char *initiator_name,
                            struct iscsi_auth_policy *policy, const char **why)
{
    struct conn *c = ctx;
    const struct conf_target *t;
    const struct conf_access *a = login_access(c, target_name, &t);
    struct sockaddr_storage ss;

    if (!a) {
        *why = "TargetName is not a target of this proxy";
        return ISCSI_LOGIN_ERR_NOT_FOUND;
    }
    if (!peer_address(c, &ss) || !conf_access_admits_address(a, (struct sockaddr *)&ss)) {
        *why = "source address not allowed";
        return ISCSI_LOGIN_ERR_FORBIDDEN;
    }
    if (t && !conf_target_admits_initiator(t, initiator_name)) {
        *why = "InitiatorName not allowed";
        return ISCSI_LOGIN_ERR_FORBIDDEN;
    }
    bool chap = conf_access_requires_chap(a);
    *policy = (struct iscsi_auth_policy){
        .chap_required = chap, .chap_allowed = chap, .chap_algorithms = a->chap_algorithms,
    };
    return 0;
}

/* The login's rules, looked up again (a reload may have come between two
 * Login Requests: its secrets apply from then on). */
static const struct conf_access *current_access(const struct conn *c)
{
    const struct iscsi_session_params *sp = iscsi_login_params(c->login);
    const struct conf_target *t;

    return login_access(c, sp->discovery ? NULL : sp->target_name, &t);
}

static int copy_secret(const struct conf_account *acc, uint8_t *buf, size_t *len)
{
    if (!acc || acc->secret_len > ISCSI_CHAP_SECRET_MAX)
        return -1;
    memcpy(buf, acc->secret, acc->secret_len);
    *len = acc->secret_len;
    return 0;
}

static int initiator_secret(void *ctx, const char *name, uint8_t *buf, size_t *len)
{
    const struct conf_access *a = current_access(ctx);

    return copy_secret(a ? conf_access_account(a, name) : NULL, buf, len);
}

static int target_secret(void *ctx, char *name, size_t name_len, uint8_t *buf, size_t *len)
{
    const struct conf_access *a = current_access(ctx);
    const struct conf_account *acc = a ? a->mutual_account : NULL;

    if (!acc || strlen(acc->name) >= name_len)
        return -1;
    memcpy(name, acc->name, strlen(acc->name) + 1);
    return copy_secret(acc, buf, len);
}

static void send_login_reply(struct conn *c, struct iscsi_login_reply *reply)
{
    conn_stamp_sn(c, &reply->hdr, true);
    conn_send(c, &reply->hdr, reply->data, (uint32_t)reply->data_len, NULL);
}

static void enter_full_feature_phase(struct conn *c)
{
    c->params = *iscsi_login_params(c->login);
    c->state = CONN_FFP;
    conn_login_timer_stop(c);
    c->proxy->n.sessions_total++;
    conn_keepalive_start(c);
    conn_info(c, "%s: %s session up: initiator %s%s%s, %s%s%s, TSIH %u, "
             "MaxRecvDataSegmentLength %u/%u, digests %s/%s", c->peer,
             c->params.discovery ? "discovery" : "normal", c->params.initiator_name,
             c->target ? ", target " : "", c->target ? c->target->name : "",
             c->params.auth_method == ISCSI_AUTH_CHAP ? "CHAP as " : "no authentication",
             c->params.auth_method == ISCSI_AUTH_CHAP ? c->params.chap_name : "",
             c->params.chap_mutual ? ", mutual" : "", (unsigned)c->tsih,
             (unsigned)c->params.initiator_mrdsl, (unsigned)c->params.target_mrdsl,
             c->params.header_digest ? "CRC32C" : "None",
             c->params.data_digest ? "CRC32C" : "None");
    conn_resume(c);     /* PDUs may already wait in the input buffer */
}

static void finish_login(struct conn *c, struct iscsi_login_reply *reply,
                         enum iscsi_login_result r)
{
    send_login_reply(c, reply);
    if (r == ISCSI_LOGIN_DONE) {
        enter_full_feature_phase(c);
        return;
    }
    if (r == ISCSI_LOGIN_REPLY_AND_CLOSE) {
        c->proxy->n.login_failures[iscsi_login_failure_of(reply->status)]++;
        const char *who = iscsi_login_params(c->login)->initiator_name;
        conn_warn(c, "%s: login refused with status 0x%04x (%s), initiator %s", c->peer,
                 (unsigned)reply->status, reply->why ? reply->why : "-", who[0] ? who : "?");
        conn_close_after_flush(c, "login failed");
    }
}

/*
 * What the initiator is told when the backend login fails (RFC 7143
 * 11.13.5): the backend's refusal of this initiator stays a refusal; a
 * backend that cannot be reached is "service unavailable" (retry later);
 * a backend that rejects the proxy's own configuration is a target error.
 */
static uint16_t frontend_status_for_backend(uint16_t backend_status)
{
    switch (backend_status) {
    case ISCSI_LOGIN_ERR_FORBIDDEN:
    case ISCSI_LOGIN_ERR_TOO_MANY_CONNECTIONS:
    case ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE:
    case ISCSI_LOGIN_ERR_OUT_OF_RESOURCES:
        return backend_status;
    default:
        if ((backend_status >> 8) == 0x01)      /* redirection */
            return ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE;
        return ISCSI_LOGIN_ERR_TARGET;
    }
}

static void backend_login_done(void *arg, uint16_t status, const char *err)
{
    struct conn *c = arg;
    struct iscsi_login_reply reply;

    if (c->state != CONN_LOGIN_BACKEND)
        return;
    uint16_t answer = 0;
    size_t portal = backend_portal_index(c->backend);
    if (status) {
        answer = frontend_status_for_backend(status);
        conn_warn(c, "%s: backend %s login to %s failed (status 0x%04x: %s)", c->peer,
                 backend_portal_address(c->backend), c->target->backend_target,
                 (unsigned)status, err ? err : "-");
        if (status == ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE)
            health_login_result(c->proxy, c->target, portal, false, err);
    } else {
        char configured[300];
        health_login_result(c->proxy, c->target, portal, true, NULL);
        /* The cache's objects are keyed by this address (lun_identity.c):
         * a session through another portal verifies its LUNs anew. */
        backend_peer_address(c->backend, c->backend_addr, sizeof(c->backend_addr));
        conf_addr_format(&c->target->backend_portals[portal], configured, sizeof(configured));
        conn_info(c, "%s: backend session to %s up for initiator %s through portal %s (%zu of %zu)%s%s",
                 c->peer, c->target->backend_target,
                 iscsi_login_params(c->login)->initiator_name, configured, portal + 1,
                 c->target->n_backend_portals,
                 strcmp(configured, backend_portal_address(c->backend)) ? ", redirected to " : "",
                 strcmp(configured, backend_portal_address(c->backend))
                     ? backend_portal_address(c->backend) : "");
    }
    enum iscsi_login_result r = iscsi_login_finish(c->login, answer, &reply);
    finish_login(c, &reply, r);
}

static void backend_lost(void *arg, const char *err)
{
    struct conn *c = arg;

    conn_warn(c, "%s: backend session to %s lost (%s); closing the initiator's connection",
             c->peer, c->target->backend_target, err ? err : "-");
    /* Commands in flight may or may not have reached the LUN. */
    lun_invalidate_session(c->proxy, c->target, "backend session lost");
    conn_close(c, "backend session lost");
}

static const struct backend_ops conn_backend_ops = {
    .on_login = backend_login_done,
    .on_failure = backend_lost,
};

/* Returns 0, or the login status to refuse with (logged). */
static uint16_t start_backend_login(struct conn *c)
{
    const struct iscsi_session_params *sp = iscsi_login_params(c->login);
    const struct conf *cf = c->proxy->conf;
    char portals[CONF_MAX_BACKEND_PORTALS][300];
    const char *portal_list[CONF_MAX_BACKEND_PORTALS];

    c->target = conf_find_target(cf, sp->target_name);
    if (!c->target) {
        conn_warn(c, "%s: target %s was removed by a reload during the login", c->peer,
                 sp->target_name);
        return ISCSI_LOGIN_ERR_TARGET_REMOVED;
    }
    uint16_t limit = conn_session_limit(c);
    if (limit)
        return limit;
    for (size_t i = 0; i < c->target->n_backend_portals; i++) {
        conf_addr_format(&c->target->backend_portals[i], portals[i], sizeof(portals[i]));
        portal_list[i] = portals[i];
    }
    struct backend_params bp = {
        .portals = portal_list,
        .n_portals = c->target->n_backend_portals,
        .preferred = health_preferred_portal(c->proxy, c->target),
        .target = c->target->backend_target,
        .initiator_name = c->target->initiator_name ? c->target->initiator_name
                                                    : sp->initiator_name,
        /* auth_file's account; its secret is NUL-terminated and holds no 0x00. */
        .chap_username = c->target->backend_account ? c->target->backend_account->name : NULL,
        .chap_password = c->target->backend_account
                             ? (const char *)c->target->backend_account->secret : NULL,
        .timeout_seconds = cf->backend_timeout,
        .log_limit = &c->proxy->peer_log,
    };
    c->backend = backend_new(c->proxy->base, &bp, &conn_backend_ops, c);
    c->state = CONN_LOGIN_BACKEND;
    if (!c->backend || backend_start(c->backend) < 0) {
        c->state = CONN_LOGIN;
        log_error("%s: cannot start the backend session", c->peer);
        return ISCSI_LOGIN_ERR_TARGET;
    }
    return 0;
}

enum rx_result conn_login_pdu(struct conn *c, const struct rx_pdu *pdu)
{
    const struct conf *cf = c->proxy->conf;
    struct iscsi_login_reply reply;

    if (pdu->hdr.opcode != ISCSI_OP_LOGIN_REQ) {
        conn_warn(c, "%s: %s PDU before login completed", c->peer,
                 iscsi_opcode_name(pdu->hdr.opcode));
        return RX_CLOSE;
    }
    if (!c->login) {
        struct iscsi_login_limits lim = {
            .max_recv_dsl = cf->max_recv_data_segment_length,
            .max_burst = cf->max_burst_length,
            .first_burst = cf->first_burst_length,
            .max_outstanding_r2t = 1,
            .allow_digests = true,
            .immediate_data = cf->immediate_data,
            .initial_r2t = cf->initial_r2t,
        };
        struct iscsi_login_hooks hooks = { .ctx = c, .admit = admit_login,
                                           .initiator_secret = initiator_secret,
                                           .target_secret = target_secret };
        c->tsih = proxy_alloc_tsih(c->proxy);
        c->login = iscsi_login_new(&lim, c->tsih, &hooks);
        if (!c->login)
            return RX_CLOSE;
        /* Login requests carry the session's first CmdSN and do not use it up. */
        c->exp_cmdsn = pdu->hdr.u.login_req.cmdsn;
        c->max_cmdsn = c->exp_cmdsn - 1;
        c->statsn = pdu->hdr.u.login_req.expstatsn;
        memcpy(c->isid, pdu->hdr.u.login_req.isid, sizeof(c->isid));
    }
    enum iscsi_login_result r = iscsi_login_step(c->login, &pdu->hdr, pdu->data,
                                                 pdu->hdr.data_len, &reply);
    if (r != ISCSI_LOGIN_FFP_PENDING) {
        finish_login(c, &reply, r);
        return RX_DONE;
    }
    uint16_t refused = start_backend_login(c);
    if (refused) {
        r = iscsi_login_finish(c->login, refused, &reply);
        finish_login(c, &reply, r);
    }
    return RX_DONE;
}

void conn_login_teardown(struct conn *c)
{
    iscsi_login_free(c->login);
    c->login = NULL;
}
