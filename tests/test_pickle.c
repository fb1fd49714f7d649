/* test_pickle.c - suite "pickle" (being written). */
#include "test.h"

void mpt_suite_pickle(void) {}
