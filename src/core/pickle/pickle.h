/* pickle.h - the pickle codec behind mp_obj_dumps() and mp_obj_loads().
 *
 * Room pickle/: encode.c writes, decode.c reads any pickle of the data
 * subset, decode_fast.c reads the common case in one pass and hands
 * everything else to decode.c; arg.c makes an mp_obj a process argument
 * (runtime/kind.h).
 *
 * The opcodes are those of Python's pickletools (PEP 307 for protocol 2,
 * PEP 3154 for protocol 4, PEP 574 for protocol 5). docs/pickle.md says
 * which ones the codec writes and reads, and why the others are refused. */
#ifndef MP_CORE_PICKLE_PICKLE_H
#define MP_CORE_PICKLE_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "mproc/obj.h"

enum mp_pickle_op {
    MP_PK_MARK = 0x28,            /* ( */
    MP_PK_EMPTY_TUPLE = 0x29,     /* ) */
    MP_PK_STOP = 0x2e,            /* . */
    MP_PK_POP = 0x30,             /* 0 */
    MP_PK_POP_MARK = 0x31,        /* 1 */
    MP_PK_DUP = 0x32,             /* 2 */
    MP_PK_BINBYTES = 0x42,        /* B */
    MP_PK_SHORT_BINBYTES = 0x43,  /* C */
    MP_PK_FLOAT = 0x46,           /* F */
    MP_PK_BINFLOAT = 0x47,        /* G */
    MP_PK_INT = 0x49,             /* I */
    MP_PK_BININT = 0x4a,          /* J */
    MP_PK_BININT1 = 0x4b,         /* K */
    MP_PK_LONG = 0x4c,            /* L */
    MP_PK_BININT2 = 0x4d,         /* M */
    MP_PK_NONE = 0x4e,            /* N */
    MP_PK_PERSID = 0x50,          /* P */
    MP_PK_BINPERSID = 0x51,       /* Q */
    MP_PK_REDUCE = 0x52,          /* R */
    MP_PK_STRING = 0x53,          /* S */
    MP_PK_BINSTRING = 0x54,       /* T */
    MP_PK_SHORT_BINSTRING = 0x55, /* U */
    MP_PK_UNICODE = 0x56,         /* V */
    MP_PK_BINUNICODE = 0x58,      /* X */
    MP_PK_EMPTY_LIST = 0x5d,      /* ] */
    MP_PK_APPEND = 0x61,          /* a */
    MP_PK_BUILD = 0x62,           /* b */
    MP_PK_GLOBAL = 0x63,          /* c */
    MP_PK_DICT = 0x64,            /* d */
    MP_PK_APPENDS = 0x65,         /* e */
    MP_PK_GET = 0x67,             /* g */
    MP_PK_BINGET = 0x68,          /* h */
    MP_PK_INST = 0x69,            /* i */
    MP_PK_LONG_BINGET = 0x6a,     /* j */
    MP_PK_LIST = 0x6c,            /* l */
    MP_PK_OBJ = 0x6f,             /* o */
    MP_PK_PUT = 0x70,             /* p */
    MP_PK_BINPUT = 0x71,          /* q */
    MP_PK_LONG_BINPUT = 0x72,     /* r */
    MP_PK_SETITEM = 0x73,         /* s */
    MP_PK_TUPLE = 0x74,           /* t */
    MP_PK_SETITEMS = 0x75,        /* u */
    MP_PK_EMPTY_DICT = 0x7d,      /* } */
    MP_PK_PROTO = 0x80,
    MP_PK_NEWOBJ = 0x81,
    MP_PK_EXT1 = 0x82,
    MP_PK_EXT2 = 0x83,
    MP_PK_EXT4 = 0x84,
    MP_PK_TUPLE1 = 0x85,
    MP_PK_TUPLE2 = 0x86,
    MP_PK_TUPLE3 = 0x87,
    MP_PK_NEWTRUE = 0x88,
    MP_PK_NEWFALSE = 0x89,
    MP_PK_LONG1 = 0x8a,
    MP_PK_LONG4 = 0x8b,
    MP_PK_SHORT_BINUNICODE = 0x8c,
    MP_PK_BINUNICODE8 = 0x8d,
    MP_PK_BINBYTES8 = 0x8e,
    MP_PK_EMPTY_SET = 0x8f,
    MP_PK_ADDITEMS = 0x90,
    MP_PK_FROZENSET = 0x91,
    MP_PK_NEWOBJ_EX = 0x92,
    MP_PK_STACK_GLOBAL = 0x93,
    MP_PK_MEMOIZE = 0x94,
    MP_PK_FRAME = 0x95,
    MP_PK_BYTEARRAY8 = 0x96,
    MP_PK_NEXT_BUFFER = 0x97,
    MP_PK_READONLY_BUFFER = 0x98
};

/* Highest protocol the decoder accepts (Python's pickle.HIGHEST_PROTOCOL). */
#define MP_PICKLE_HIGHEST_PROTOCOL 5

/* CPython's framing constants (Modules/_pickle.c): a frame is closed at
 * the first opcode boundary once it holds this many bytes, and str/bytes
 * payloads of at least this size are written outside any frame. */
#define MP_PICKLE_FRAME_TARGET ((size_t)64 * 1024)
/* Frames shorter than this are not worth their 9-byte header. */
#define MP_PICKLE_FRAME_MIN 4
/* APPENDS / SETITEMS batch size (pickle.Pickler._BATCHSIZE). */
#define MP_PICKLE_BATCH 1000

/* How much memory the memo may multiply. A pickle refers to an object
 * again with a memo get (Python writes one for [x, x]); an mp_obj has no
 * sharing, so each reference becomes a deep copy, and a few kilobytes of
 * nested references could ask for terabytes. The decoder estimates the
 * memory of the finished value before building it (see pickle/decode.c) and
 * refuses with MP_ETOOBIG when it exceeds what the input itself could
 * describe without sharing plus this allowance. */
#define MP_PICKLE_SHARE_LIMIT ((uint64_t)256 << 20)

/* Name of an opcode ("STACK_GLOBAL"), or NULL for a byte that is none. */
const char *mp__pickle_op_name(int op);

/* The one-pass decoder of pickles that share nothing (pickle/decode_fast.c):
 * 1 with the value in *out, or 0 when it leaves the pickle, valid or not,
 * to the general decoder; it records no error. */
int mp__pickle_fast_loads(const void *data, size_t len, mp_obj **out);

/* The items of n pickled lists, each at base + at[i] of len[i] bytes, as
 * one new list, decoded as mp__pickle_fast_loads does into one arena, the
 * items of each stored once, in an array with room for expect: 1 with
 * the list in *out, or 0 when one of them is not a plain list for the
 * fast decoder, they hold more than expect items, or memory ran out, with
 * nothing made. For the pool, whose map results come back as one list
 * per chunk. */
int mp__pickle_fast_loads_lists(const unsigned char *base, const size_t *at,
                                const size_t *len, size_t n, size_t expect, mp_obj **out);

/* The pickle of a list of the n items (each in a 1-tuple when wrap is
 * set), without making the list: what mp_obj_dumps() gives for it, but
 * without frames (these never leave mproc's own pool, and a frame's
 * header would take 9 of the 40 bytes of a one-item chunk). Written after
 * the first *used bytes of *buf (of *cap bytes, NULL and 0 at first), after
 * headroom bytes left for the caller, growing the buffer with realloc:
 * many pickles in one allocation. *used becomes the end of the new
 * pickle; on failure it stays, and *buf and *cap are still the caller's
 * to free (the buffer may have moved). For the pool, whose chunks are
 * slices of a caller's list. */
int mp__pickle_dumps_items_into(mp_obj *const *items, size_t n, int wrap, size_t headroom,
                                void **buf, size_t *used, size_t *cap);

/* mp_obj_loads() with the sharing allowance as a parameter, so that the
 * fuzzer can keep each run's memory small. */
int mp__pickle_loads(const void *data, size_t len, mp_obj **out, uint64_t share_limit);

#endif
