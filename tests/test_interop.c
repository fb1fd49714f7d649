/* test_interop.c - suite "interop" (being written). */
#include "test.h"

void mpt_suite_interop(void) {}
