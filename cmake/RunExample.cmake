# RunExample.cmake - runs example programs and checks their stdout.
#
#   cmake -DEXPECTED_DIR=<dir> -DCHECK=ON|OFF [-DEMULATOR=<cmd>] [-DTARGET_WIN32=ON]
#         [-DPYTHON=<python3> -DDRIVER_DIR=<dir>] -P RunExample.cmake <exe>...
#
# A program with a driver, <DRIVER_DIR>/<name>.py, is run as
# "<PYTHON> <driver> <exe>" (the far end of a pipe, examples/echo_peer.py).
#
# EMULATOR runs each program (cross builds: CMAKE_CROSSCOMPILING_EMULATOR,
# tools/run-wine.sh for MinGW). TARGET_WIN32: Windows programs, whose
# text-mode stdout ends lines with CRLF; CRLF is compared as LF there, as
# on a Windows host.
#
# Each program's stdout goes to <name>.out in the working directory and is
# compared byte for byte with <EXPECTED_DIR>/<name>.txt when that exists.
# CHECK=ON (a CTest test): print nothing but a mismatch. CHECK=OFF (the
# run-examples target): print a header and the output of each program.
# Fails if a program exits non-zero, times out or prints something else.
set(_exes "")
set(_after_script OFF)
math(EXPR _last "${CMAKE_ARGC} - 1")
foreach(i RANGE 1 ${_last})
    if(_after_script)
        list(APPEND _exes "${CMAKE_ARGV${i}}")
    elseif(CMAKE_ARGV${i} STREQUAL "-P")
        math(EXPR _script "${i} + 1")
        set(_skip ${_script})
    endif()
    if(DEFINED _skip AND i EQUAL _skip)
        set(_after_script ON)
    endif()
endforeach()
if(NOT _exes)
    message(STATUS "no examples to run")
    return()
endif()

set(_failed "")
foreach(exe IN LISTS _exes)
    get_filename_component(name "${exe}" NAME_WE)
    set(out "${CMAKE_CURRENT_BINARY_DIR}/${name}.out")
    if(NOT CHECK)
        execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "==== ${name} ====")
    endif()
    set(cmd ${EMULATOR} "${exe}")
    if(PYTHON AND DRIVER_DIR AND EXISTS "${DRIVER_DIR}/${name}.py")
        set(cmd "${PYTHON}" "${DRIVER_DIR}/${name}.py" "${exe}")
    endif()
    execute_process(COMMAND ${cmd} OUTPUT_FILE "${out}" RESULT_VARIABLE rc TIMEOUT 240)
    if(NOT CHECK)
        execute_process(COMMAND "${CMAKE_COMMAND}" -E cat "${out}")
    endif()
    set(problem "")
    if(NOT rc STREQUAL "0")
        list(APPEND problem "exit status ${rc}")
    endif()
    set(expected_file "${EXPECTED_DIR}/${name}.txt")
    if(EXISTS "${expected_file}")
        file(READ "${expected_file}" expected)
        file(READ "${out}" actual)
        if(CMAKE_HOST_WIN32 OR TARGET_WIN32)
            string(REPLACE "\r\n" "\n" actual "${actual}")
        endif()
        if(NOT actual STREQUAL expected)
            list(APPEND problem "stdout differs from ${expected_file}")
            message("---- expected (${expected_file}) ----\n${expected}"
                    "---- actual ----\n${actual}---- end ----")
        elseif(NOT CHECK)
            execute_process(COMMAND "${CMAKE_COMMAND}" -E echo
                            "(matches expected/${name}.txt)")
        endif()
    endif()
    if(problem)
        list(JOIN problem ", " problem)
        message("${name}: ${problem}")
        list(APPEND _failed ${name})
    endif()
endforeach()

if(_failed)
    message(FATAL_ERROR "failed: ${_failed}")
endif()
