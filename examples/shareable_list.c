/* shareable_list.c - the ShareableList session of Python's
 * multiprocessing.shared_memory documentation, in C:
 *
 *     a = shared_memory.ShareableList(['howdy', b'HoWdY', -273.154, 100,
 *                                      None, True, 42])
 *     a[2]                      # -273.154
 *     a[2] = -78.5; a[2]        # -78.5
 *     a[2] = 'dry ice'; a[2]    # 'dry ice'
 *     a[2] = 'larger than previously allocated storage space'
 *                               # ValueError; a[2] is still 'dry ice'
 *     list(a), len(a), a.index(42), a.count(b'howdy'), a.count(b'HoWdY')
 *     a.shm.close(); a.shm.unlink()
 *
 * It prints what Python prints for each line. A Python program could
 * attach to the same list meanwhile: ShareableList(name=...) with the name
 * mp_shared_memory_name(mp_shareable_list_shm(a)) gives. */
#include <stdio.h>
#include <stdlib.h>

#include <mproc.h>

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "%s: %s (%s)\n", what, mp_strerror(rc), mp_last_error());
        exit(1);
    }
}

/* Prints item i as Python's repr does. */
static void show(mp_shareable_list *a, int64_t i)
{
    mp_obj *item;
    check(mp_shareable_list_get(a, i, &item), "get");
    mp_obj_print(item);
    mp_obj_free(item);
}

static void set(mp_shareable_list *a, int64_t i, mp_obj *value, const char *what)
{
    int rc = mp_shareable_list_set(a, i, value);
    mp_obj_free(value);
    check(rc, what);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    mp_obj *items =
        MP_LIST(mp_obj_str("howdy"), mp_obj_bytes("HoWdY", 5), mp_obj_float(-273.154),
                mp_obj_int(100), mp_obj_none(), mp_obj_bool(1), mp_obj_int(42));
    mp_shareable_list *a;
    check(mp_shareable_list_new(&a, NULL, items), "ShareableList");
    mp_obj_free(items);

    show(a, 2);
    set(a, 2, mp_obj_float(-78.5), "a[2] = -78.5");
    show(a, 2);
    set(a, 2, mp_obj_str("dry ice"), "a[2] = 'dry ice'"); /* a new type is fine */
    show(a, 2);
    mp_obj *big = mp_obj_str("larger than previously allocated storage space");
    if (mp_shareable_list_set(a, 2, big) == MP_ETOOBIG)
        printf("ValueError: bytes/str item exceeds available storage\n");
    mp_obj_free(big);
    show(a, 2);

    mp_obj *all;
    check(mp_shareable_list_to_obj(a, &all), "list(a)");
    mp_obj_print(all);
    mp_obj_free(all);
    printf("%zu\n", mp_shareable_list_len(a));
    size_t pos = 0, n = 0;
    mp_obj *v = mp_obj_int(42);
    check(mp_shareable_list_index(a, v, &pos), "index(42)");
    mp_obj_free(v);
    printf("%zu\n", pos);
    v = mp_obj_bytes("howdy", 5);
    check(mp_shareable_list_count(a, v, &n), "count(b'howdy')");
    mp_obj_free(v);
    printf("%zu\n", n);
    v = mp_obj_bytes("HoWdY", 5);
    check(mp_shareable_list_count(a, v, &n), "count(b'HoWdY')");
    mp_obj_free(v);
    printf("%zu\n", n);

    mp_shared_memory *shm = mp_shareable_list_shm(a);
    check(mp_shared_memory_close(shm), "close");
    check(mp_shared_memory_unlink(shm), "unlink");
    mp_shareable_list_free(a);
    return 0;
}
