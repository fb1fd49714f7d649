/* pool_mpi.c - the docs' first Pool program on MPI ranks:
 *
 *     def f(x):
 *         return x*x
 *
 *     with MPIPoolExecutor() as p:          # mpi4py.futures
 *         print(list(p.map(f, [1, 2, 3])))  # prints "[1, 4, 9]"
 *
 * Run as `mpirun -n 3 ./pool_mpi`: rank 0 prints, ranks 1 and 2 work.
 * Started alone, it spawns two workers instead. Built with
 * -DMPROC_WITH_MPI=ON (docs/distributed.md). */
#include <stdio.h>
#include <stdlib.h>

#include <mproc.h>
#include <mproc/mpi.h>

static void check(int rc, const char *what)
{
    if (rc < 0) {
        fprintf(stderr, "%s: %s (%s)\n", what, mp_strerror(rc), mp_last_error());
        exit(1);
    }
}

/* Runs in a worker: args is the tuple (x,). */
static int f(const mp_obj *args, mp_obj **result)
{
    int64_t x;
    if (mp_obj_get_int(mp_obj_item(args, 0), &x) < 0)
        return mp_pool_fail(result, 1, "f() wants an int");
    *result = mp_obj_int(x * x);
    return 0;
}

int main(int argc, char **argv)
{
    /* Every rank but 0 (or a spawned worker) serves the pool here and exits. */
    check(mp_mpi_main(&argc, &argv), "MPI");

    mp_mpi_pool_config cfg = {MP_MPI_AUTO, 2, NULL, NULL, NULL};
    mp_pool *p;
    check(mp_mpi_pool_new(&p, &cfg), "Pool");
    mp_obj *items = MP_LIST(mp_obj_int(1), mp_obj_int(2), mp_obj_int(3));
    mp_obj *squares;
    check(mp_pool_map(p, f, items, 0, &squares), "map");
    check(mp_obj_print(squares), "print"); /* [1, 4, 9] */
    mp_obj_free(squares);
    mp_obj_free(items);
    mp_pool_free(p);
    return 0; /* MPI is finalized at exit */
}
