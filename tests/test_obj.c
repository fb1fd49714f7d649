/* test_obj.c - suite "obj" (being written). */
#include "test.h"

void mpt_suite_obj(void) {}
