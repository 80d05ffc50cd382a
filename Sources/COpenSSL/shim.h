#ifndef PORTCULLIS_COPENSSL_SHIM_H
#define PORTCULLIS_COPENSSL_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/param_build.h>

/* EVP_RSA_gen and EVP_EC_gen are macros over the variadic EVP_PKEY_Q_keygen, which
   Swift cannot call. */
static inline EVP_PKEY *portcullis_rsa_generate(unsigned int bits) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

static inline EVP_PKEY *portcullis_ec_generate(const char *curve) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
}

/* EVP_PKEY_PUBLIC_KEY is a macro built from other macros. */
static inline int portcullis_evp_pkey_public_key_selection(void) {
    return EVP_PKEY_PUBLIC_KEY;
}
#endif
