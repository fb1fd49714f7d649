/* stage.h - handshakes between a test and its children through a raw
 * Value of type 'i' (so that the object under test is not also the means
 * of testing it), and a killer thread for "killed while someone waits". */
#ifndef MPT_STAGE_H
#define MPT_STAGE_H

#include "mproc.h"
#include "platform.h"
#include "child.h" /* mpt_now, mpt_sleep_ms */

/* Sets the stage: 0 or an mproc code. */
int mpt_stage_set(mp_value *stage, int64_t n);

/* Waits until the stage is at least n: 1, or 0 after MPT_JOIN_TIMEOUT. */
int mpt_stage_wait(mp_value *stage, int64_t n);

/* Kills p (mp_process_kill) after delay seconds, from a thread of its
 * own, so that the caller can block meanwhile; mpt_kill_join waits for
 * that thread. One at a time. */
void mpt_kill_soon(mp_process *p, double delay);
void mpt_kill_join(void);

#endif
