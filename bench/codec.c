/* codec.c - codec_*: encode an object as a pickle and decode it again, in
 * one process: what every Queue.put / get of an object and every
 * Connection.send / recv pays on top of moving the bytes.
 *
 *     codec small|list COUNT      ->  "<ns per dumps+loads> ns/op"
 *
 * small is [42, None, 'hello']; list is 1000 mixed scalars, item i being
 * by i % 5: the int i * 1000003 (some need more than 32 bits), the float
 * i + 0.25, the str "item<i>", the bool i % 2, None. bench/py_peer.py
 * builds the same objects for pickle.dumps + pickle.loads. One round is
 * mp_obj_dumps, mp_obj_loads and freeing both results, as Python's
 * reference counting frees them. */
#include "mp_bench.h"

static mp_obj *mixed_list(void)
{
    mp_obj *l = mp_obj_list(0);
    for (int64_t i = 0; l && i < 1000; i++) {
        mp_obj *item;
        char s[32];
        switch (i % 5) {
        case 0:
            item = mp_obj_int(i * 1000003);
            break;
        case 1:
            item = mp_obj_float((double)i + 0.25);
            break;
        case 2:
            snprintf(s, sizeof s, "item%lld", (long long)i);
            item = mp_obj_str(s);
            break;
        case 3:
            item = mp_obj_bool((int)(i % 2));
            break;
        default:
            item = mp_obj_none();
            break;
        }
        BENCH_CHECK(mp_obj_append(l, item));
    }
    return l;
}

static void round_trip(const mp_obj *o, int check)
{
    void *data = NULL;
    size_t len = 0;
    mp_obj *back = NULL;
    BENCH_CHECK(mp_obj_dumps(o, &data, &len));
    BENCH_CHECK(mp_obj_loads(data, len, &back));
    if (check && !mp_obj_equal(o, back)) bench_die("codec: the object did not survive");
    mp_obj_free(back);
    mp_free(data);
}

int main(int argc, char **argv)
{
    mp_main(argc, argv);
    const char *which = bench_arg_str(argc, argv, 1, "small|list");
    uint64_t count = bench_arg_u64(argc, argv, 2, "COUNT");
    mp_obj *o;
    if (strcmp(which, "small") == 0)
        o = MP_LIST(mp_obj_int(42), mp_obj_none(), mp_obj_str("hello"));
    else if (strcmp(which, "list") == 0)
        o = mixed_list();
    else
        bench_die("codec: first argument is small or list, not '%s'", which);
    if (!o) bench_die("codec: building the object failed: %s", mp_last_error());

    round_trip(o, 1);
    for (uint64_t i = 0; i < count / 100 + 1; i++) /* warm caches and the allocator */
        round_trip(o, 0);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        round_trip(o, 0);
    uint64_t ns = bench_now_ns() - t0;
    bench_report((double)ns / (double)count, "ns/op");
    mp_obj_free(o);
    return 0;
}
