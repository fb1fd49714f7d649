/* suites.h - every test suite, once, in the order they run:
 * MPT_SUITE(fn, "name") for the void mpt_suite_<fn>(void) that adds the
 * suite's tests with mpt_add(). A suite's name is its file's path under
 * tests/ without .c (tests/queue/fault.c is queue/fault), a room's own
 * file naming the room (tests/queue/queue.c is queue); the misuse suites
 * gather the room's misuse_*.c. tests/CMakeLists.txt makes one CTest test
 * of each line (fault and stress by the name's last part). The leak check
 * runs last, after each test. */
MPT_SUITE(platform, "platform")
MPT_SUITE(base_error, "base/error")
MPT_SUITE(sync_pidlock, "sync/pidlock")
MPT_SUITE(sync_lock, "sync/lock")
MPT_SUITE(sync_semaphore, "sync/semaphore")
MPT_SUITE(sync_event, "sync/event")
MPT_SUITE(sync_condition, "sync/condition")
MPT_SUITE(sync_barrier, "sync/barrier")
MPT_SUITE(runtime_process, "runtime/process")
MPT_SUITE(runtime_descriptors, "runtime/descriptors")
MPT_SUITE(runtime_exit, "runtime/exit")
MPT_SUITE(runtime_cpus, "runtime/cpus")
MPT_SUITE(runtime_identity, "runtime/identity")
MPT_SUITE(runtime_children, "runtime/children")
MPT_SUITE(shared_value, "shared/value")
MPT_SUITE(shared_array, "shared/array")
MPT_SUITE(shared_caller_lock, "shared/caller_lock")
MPT_SUITE(queue, "queue")
MPT_SUITE(conn, "conn")
MPT_SUITE(interop_python, "interop/python")
MPT_SUITE(obj, "obj")
MPT_SUITE(pickle, "pickle")
MPT_SUITE(conn_listener, "conn/listener")
MPT_SUITE(interop, "interop")
MPT_SUITE(queue_fault, "queue/fault")
MPT_SUITE(sync_fault, "sync/fault")
MPT_SUITE(conn_fault, "conn/fault")
MPT_SUITE(shared_fault, "shared/fault")
MPT_SUITE(queue_stress, "queue/stress")
MPT_SUITE(shared_misuse, "shared/misuse")
MPT_SUITE(queue_misuse, "queue/misuse")
MPT_SUITE(conn_misuse, "conn/misuse")
MPT_SUITE(runtime_misuse, "runtime/misuse")
MPT_SUITE(obj_misuse, "obj/misuse")
MPT_SUITE(conn_security, "conn/security")
MPT_SUITE(leaks, "leaks")
