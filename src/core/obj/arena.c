/* arena.c - the blocks the pickle decoder builds a value in (see
 * obj_internal.h for who owns them and when they go).
 *
 * Allocation bumps a pointer; nothing is freed before the whole arena.
 * Blocks double in size so that a value of any size takes O(log n) of
 * them, and a request larger than a quarter of the next block gets a
 * block of its own, so a big str wastes no room and leaves the current
 * block in use. */
#include <stdlib.h>

#include "core/obj/obj_internal.h"

#define BLOCK_MAX ((size_t)4 << 20) /* blocks stop doubling here */

/* Header of each block after the first. */
typedef struct block {
    void *next;
    size_t pad; /* keeps the room 16-aligned, as malloc's */
} block;

#define ARENA_HEAD ((sizeof(mp_arena) + 15) & ~(size_t)15)

mp_arena *mp_arena_new(size_t size)
{
    if (size > BLOCK_MAX) size = BLOCK_MAX;
    mp_arena *a = malloc(ARENA_HEAD + size);
    if (!a) return NULL;
    a->cur = (unsigned char *)a + ARENA_HEAD;
    a->end = a->cur + size;
    a->blocks = NULL;
    a->next_size = size < 1024 ? 2048 : 2 * size;
    a->dirty = 0;
    a->walk_up = NULL;
    return a;
}

void mp_arena_free(mp_arena *a)
{
    if (!a) return;
    for (void *b = a->blocks, *next; b; b = next) {
        next = ((block *)b)->next;
        free(b);
    }
    free(a);
}

void *mp_arena__grow(mp_arena *a, size_t n)
{
    int own = n > a->next_size / 4;
    size_t room = own ? n : a->next_size;
    if (room > SIZE_MAX - sizeof(block)) return NULL;
    block *b = malloc(sizeof(block) + room);
    if (!b) return NULL;
    b->next = a->blocks;
    a->blocks = b;
    unsigned char *p = (unsigned char *)(b + 1);
    if (own) return p;
    a->cur = p + n;
    a->end = p + room;
    if (a->next_size < BLOCK_MAX) a->next_size *= 2;
    return p;
}
