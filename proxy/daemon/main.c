/* iscsi-sparse-proxy: command line, configuration, event loop, signals. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "conf.h"
#include "event_poll.h"
#include "log.h"
#include "server.h"
#include "stats.h"

#define PROXY_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: iscsi-sparse-proxy -c FILE [--check-config]\n"
            "  -c, --config FILE   configuration file (iscsi-sparse-proxy.conf(5))\n"
            "      --check-config  validate FILE, print the resolved configuration, exit\n"
            "  -V, --version       print the version\n"
            "  -h, --help          this text\n"
            "Runs in the foreground and logs to stderr unless log = syslog.\n");
}

static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    log_info("signal %d: reloading the configuration", (int)sig);
    proxy_reload(arg);
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct proxy *p = arg;

    (void)what;
    log_info("signal %d: stopping", (int)sig);
    proxy_shutdown(p);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", no_argument, NULL, 'k' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *path = NULL;
    int check_only = 0, opt;

    while ((opt = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'k': check_only = 1; break;
        case 'V': printf("iscsi-sparse-proxy %s\n", PROXY_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return 2;
    }

    struct conf *conf = NULL;
    char err[512];
    if (conf_load(path, &conf, err, sizeof(err)) < 0) {
        fprintf(stderr, "iscsi-sparse-proxy: %s\n", err);
        return 2;
    }
    if (check_only) {
        /* The certificate and key as the stats endpoint will load them. */
        SSL_CTX *tls = conf->stats_tls_cert ? stats_tls_new(conf->stats_tls_cert,
                                                            conf->stats_tls_key, err,
                                                            sizeof(err)) : NULL;
        if (conf->stats_tls_cert && !tls) {
            fprintf(stderr, "iscsi-sparse-proxy: %s\n", err);
            conf_free(conf);
            return 2;
        }
        SSL_CTX_free(tls);
        conf_print(conf, stdout);
        conf_free(conf);
        return 0;
    }
    log_set_level(conf->log_level);
    log_use_syslog(conf->log_syslog);
    signal(SIGPIPE, SIG_IGN);

    struct event_base *base = event_base_new();
    struct proxy *p = base ? proxy_new(base, conf) : NULL;
    if (!p)
        conf_free(conf);
    if (!p || proxy_listen(p) < 0 || stats_start(p) < 0) {
        if (p)
            stats_stop(p);
        proxy_free(p);
        if (base)
            event_base_free(base);
        return 1;
    }
    struct event *sigint = evsignal_new(base, SIGINT, on_stop_signal, p);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_stop_signal, p);
    struct event *sighup = evsignal_new(base, SIGHUP, on_reload_signal, p);
    evsignal_add(sigint, NULL);
    evsignal_add(sigterm, NULL);
    evsignal_add(sighup, NULL);
    log_info("iscsi-sparse-proxy %s started, %zu target(s)", PROXY_VERSION, conf->n_targets);
    proxy_warn_anonymous(conf);
    proxy_raise_fd_limit();
    conn_limits_check_fds(conf);

    proxy_run(p);

    event_free(sigint);
    event_free(sigterm);
    event_free(sighup);
    stats_stop(p);
    proxy_free(p);
    event_base_free(base);
    log_info("stopped");
    return 0;
}
