/* unicode_printable.h - Python's str.isprintable() for one code point.
 *
 * The table behind it (unicode_printable.c) is generated from Python's own
 * unicodedata by tools/gen_unicode_printable.py; mp_unicode_version names
 * the Unicode version it came from, so that tests talking to another
 * Python can stick to characters both agree on. */
#ifndef MP_CORE_OBJ_UNICODE_PRINTABLE_H
#define MP_CORE_OBJ_UNICODE_PRINTABLE_H

#include <stddef.h>
#include <stdint.h>

/* The Unicode version of the table, e.g. "15.1.0" (unicodedata.unidata_version). */
extern const char mp_unicode_version[];

/* Sorted, disjoint runs [first, last] of printable code points. */
extern const uint32_t mp_unicode_printable_runs[][2];
extern const size_t mp_unicode_printable_nruns;

/* 1 if repr() writes cp as it is (str.isprintable()), 0 if it escapes it. */
int mp_unicode_printable(uint32_t cp);

#endif
