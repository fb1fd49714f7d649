/* test_listener.c - suite "listener" (being written). */
#include "test.h"

void mpt_suite_listener(void) {}
