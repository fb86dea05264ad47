/* The live dashboard page, served at / of the stats endpoint. */
#ifndef ISP_DASHBOARD_H
#define ISP_DASHBOARD_H

struct evhttp_request;

/* evhttp callback: proxy/daemon/dashboard.html, built into the binary. */
void dashboard_handle(struct evhttp_request *req, void *arg);

#endif
