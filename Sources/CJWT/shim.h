#ifndef PORTCULLIS_CJWT_SHIM_H
#define PORTCULLIS_CJWT_SHIM_H
#include <jwt.h>
#endif
