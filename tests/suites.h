/* suites.h - every test suite, once, in the order they run. Each file
 * tests/test_<name>.c defines void mpt_suite_<name>(void) that adds its
 * tests with mpt_add(). The leak check always runs last. */
MPT_SUITE(platform)
MPT_SUITE(lock)
MPT_SUITE(process)
MPT_SUITE(value)
MPT_SUITE(array)
MPT_SUITE(queue)
MPT_SUITE(conn)
MPT_SUITE(python)
MPT_SUITE(obj)
MPT_SUITE(pickle)
MPT_SUITE(listener)
MPT_SUITE(interop)
MPT_SUITE(misuse)
MPT_SUITE(security)
MPT_SUITE(leaks)
