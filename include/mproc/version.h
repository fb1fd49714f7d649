/* mproc/version.h - compile-time and run-time version of mproc. */
#ifndef MPROC_VERSION_H
#define MPROC_VERSION_H

#include "export.h"

#define MP_VERSION_MAJOR 0
#define MP_VERSION_MINOR 1
#define MP_VERSION_PATCH 0
#define MP_VERSION_HEX                                                                   \
    ((MP_VERSION_MAJOR << 16) | (MP_VERSION_MINOR << 8) | MP_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library actually linked, as MP_VERSION_HEX encodes it. */
MP_API unsigned mp_version(void);

/* The same as a static string, e.g. "0.1.0". */
MP_API const char *mp_version_string(void);

#ifdef __cplusplus
}
#endif
#endif
