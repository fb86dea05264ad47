/* The stats endpoint's TLS server context (see stats.h). */
#include "stats.h"

#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* OpenSSL's reason for the last failure, e.g. "no start line". */
static const char *openssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;

    return r ? r : "unknown OpenSSL error";
}

/* Why the private key did not load: a key of another certificate is the
 * likely mistake, said in plain words. */
static void key_error(const char *key, char *err, size_t err_len)
{
    unsigned long e = ERR_peek_last_error();

    if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
        snprintf(err, err_len, "stats_tls_key %s does not belong to the certificate in "
                 "stats_tls_cert", key);
    else
        snprintf(err, err_len, "stats_tls_key %s: cannot load the private key: %s", key,
                 openssl_reason());
}

SSL_CTX *stats_tls_new(const char *cert, const char *key, char *err, size_t err_len)
{
    SSL_CTX *ctx;

    ERR_clear_error();
    if (!(ctx = SSL_CTX_new(TLS_server_method()))) {
        snprintf(err, err_len, "cannot create a TLS context: %s", openssl_reason());
        return NULL;
    }
    /* Renegotiation asked by a client costs a handshake each time and
     * serves nothing here. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        snprintf(err, err_len, "cannot require TLS 1.2: %s", openssl_reason());
    else if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        snprintf(err, err_len, "stats_tls_cert %s: cannot load the certificate: %s", cert,
                 openssl_reason());
    else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
             SSL_CTX_check_private_key(ctx) != 1)
        key_error(key, err, err_len);
    else
        return ctx;
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}
