# FindCUnit.cmake - finds the CUnit unit-testing library.
#
# Works with:
#   - Debian/Ubuntu libcunit1-dev, MSYS2 mingw-w64-*-cunit, Homebrew, FreeBSD
#     ports: <prefix>/include/CUnit/CUnit.h and libcunit (a pkg-config file
#     "cunit" is used as a hint when present);
#   - vcpkg: a CUnit/cunit CMake package if the port ships one, otherwise
#     <prefix>/include/cunit/CUnit.h and the library "libcunit"
#     (liblibcunit.a on Unix). Where include/cunit is lower case on a
#     case-sensitive file system, the headers are copied to
#     <build>/cunit-include/CUnit so that <CUnit/CUnit.h> works.
#
# Result: imported target CUnit::CUnit; CUnit_FOUND, CUNIT_INCLUDE_DIRS,
# CUNIT_LIBRARIES, CUnit_VERSION (when known).
include(FindPackageHandleStandardArgs)

# 1. A CMake package of CUnit itself.
if(NOT TARGET CUnit::CUnit)
    foreach(_cunit_pkg IN ITEMS CUnit cunit)
        find_package(${_cunit_pkg} CONFIG QUIET)
        if(${_cunit_pkg}_FOUND)
            foreach(_cunit_tgt IN ITEMS CUnit::CUnit cunit::cunit CUnit::cunit cunit
                                       CUnit libcunit cunit_shared cunit_static)
                if(TARGET ${_cunit_tgt})
                    if(NOT _cunit_tgt STREQUAL "CUnit::CUnit")
                        add_library(CUnit::CUnit INTERFACE IMPORTED)
                        set_target_properties(CUnit::CUnit PROPERTIES
                            INTERFACE_LINK_LIBRARIES ${_cunit_tgt})
                    endif()
                    set(CUnit_VERSION ${${_cunit_pkg}_VERSION})
                    break()
                endif()
            endforeach()
        endif()
        if(TARGET CUnit::CUnit)
            break()
        endif()
    endforeach()
endif()

if(TARGET CUnit::CUnit)
    set(CUNIT_LIBRARIES CUnit::CUnit)
    set(CUNIT_INCLUDE_DIRS "")
    set(CUnit_FOUND TRUE)
    if(NOT CUnit_FIND_QUIETLY)
        message(STATUS "Found CUnit (CMake package) ${CUnit_VERSION}")
    endif()
    return()
endif()

# 2. Headers and library by hand, with pkg-config as a hint.
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
    pkg_check_modules(PC_CUNIT QUIET cunit)
endif()

find_path(CUNIT_INCLUDE_DIR NAMES CUnit/CUnit.h HINTS ${PC_CUNIT_INCLUDE_DIRS})
if(NOT CUNIT_INCLUDE_DIR)
    # vcpkg installs the headers in include/cunit.
    find_path(CUNIT_LOWERCASE_DIR NAMES cunit/CUnit.h HINTS ${PC_CUNIT_INCLUDE_DIRS})
    if(CUNIT_LOWERCASE_DIR)
        if(EXISTS "${CUNIT_LOWERCASE_DIR}/CUnit/CUnit.h")
            set(CUNIT_INCLUDE_DIR "${CUNIT_LOWERCASE_DIR}" CACHE PATH "" FORCE)
        else()
            file(GLOB _cunit_headers "${CUNIT_LOWERCASE_DIR}/cunit/*.h")
            file(COPY ${_cunit_headers} DESTINATION "${CMAKE_BINARY_DIR}/cunit-include/CUnit")
            set(CUNIT_INCLUDE_DIR "${CMAKE_BINARY_DIR}/cunit-include" CACHE PATH "" FORCE)
        endif()
    endif()
endif()

find_library(CUNIT_LIBRARY NAMES cunit libcunit cunitlib HINTS ${PC_CUNIT_LIBRARY_DIRS})

if(PC_CUNIT_VERSION)
    set(CUnit_VERSION ${PC_CUNIT_VERSION})
elseif(CUNIT_INCLUDE_DIR AND EXISTS "${CUNIT_INCLUDE_DIR}/CUnit/CUnit.h")
    file(STRINGS "${CUNIT_INCLUDE_DIR}/CUnit/CUnit.h" _cunit_ver
         REGEX "^#define CU_VERSION \"[^\"]*\"")
    if(_cunit_ver MATCHES "\"([^\"]*)\"")
        set(CUnit_VERSION "${CMAKE_MATCH_1}")
    endif()
endif()

find_package_handle_standard_args(CUnit
    REQUIRED_VARS CUNIT_LIBRARY CUNIT_INCLUDE_DIR
    VERSION_VAR CUnit_VERSION)
mark_as_advanced(CUNIT_INCLUDE_DIR CUNIT_LOWERCASE_DIR CUNIT_LIBRARY)

if(CUnit_FOUND)
    set(CUNIT_INCLUDE_DIRS "${CUNIT_INCLUDE_DIR}")
    set(CUNIT_LIBRARIES "${CUNIT_LIBRARY}")
    if(NOT TARGET CUnit::CUnit)
        add_library(CUnit::CUnit UNKNOWN IMPORTED)
        set_target_properties(CUnit::CUnit PROPERTIES
            IMPORTED_LOCATION "${CUNIT_LIBRARY}"
            INTERFACE_INCLUDE_DIRECTORIES "${CUNIT_INCLUDE_DIR}")
    endif()
endif()
