/*
 * The dashboard: proxy/daemon/dashboard.html (HTML, CSS and a little JavaScript that
 * polls /stats), embedded at build time with xxd -i, so the page needs
 * nothing but the proxy itself (no CDN).
 */
#include "dashboard.h"

#include <event2/buffer.h>
#include <event2/http.h>

/* build/gen/dashboard_html.c */
extern unsigned char dashboard_html[];
extern unsigned int dashboard_html_len;

void dashboard_handle(struct evhttp_request *req, void *arg)
{
    struct evbuffer *b = evbuffer_new();

    (void)arg;
    if (!b) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evbuffer_add_reference(b, dashboard_html, dashboard_html_len, NULL, NULL);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/html; charset=utf-8");
    evhttp_send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
}
