# SPDX-License-Identifier: Apache-2.0
# cmake -DPROG=<program> -DEXPECTED=<file> -P check_output.cmake
# Runs PROG; passes if it exits with status 0 and its stdout is exactly the
# contents of EXPECTED.
# PROG_LAUNCHER (optional): a command line that runs PROG, such as
# valgrind and its options (KHEAP_TEST_LAUNCHER).
separate_arguments(launcher UNIX_COMMAND "${PROG_LAUNCHER}")
execute_process(COMMAND ${launcher} ${PROG}
	RESULT_VARIABLE rc
	OUTPUT_VARIABLE out
	ERROR_VARIABLE err)
file(READ "${EXPECTED}" want)
message("stdout:\n${out}stderr:\n${err}")
if(NOT rc STREQUAL "0")
	message(FATAL_ERROR "exit status ${rc}, expected 0")
endif()
if(NOT out STREQUAL want)
	message(FATAL_ERROR "stdout differs from ${EXPECTED}:\n${want}")
endif()
