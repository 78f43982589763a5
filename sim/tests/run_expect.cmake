# SPDX-License-Identifier: Apache-2.0
# cmake -DPROG=<program> -DEXPECT_RC=<status> -DEXPECT_OUT=<regex>
#       -P run_expect.cmake
# Runs PROG and checks its exit status and that its stdout matches.
# PROG_LAUNCHER (optional): a command line that runs PROG, such as
# valgrind and its options (KHEAP_TEST_LAUNCHER).
separate_arguments(launcher UNIX_COMMAND "${PROG_LAUNCHER}")
execute_process(COMMAND ${launcher} ${PROG}
	RESULT_VARIABLE rc
	OUTPUT_VARIABLE out
	ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc STREQUAL "${EXPECT_RC}")
	message(FATAL_ERROR "exit status ${rc}, expected ${EXPECT_RC}")
endif()
if(NOT out MATCHES "${EXPECT_OUT}")
	message(FATAL_ERROR "stdout does not match: ${EXPECT_OUT}")
endif()
