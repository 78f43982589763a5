# SPDX-License-Identifier: Apache-2.0
# cmake -DPROG=<program> -DEXPECT_RC=<status> -DEXPECT_OUT=<regex>
#       [-DEXPECT_ERR=<regex>] -P run_expect.cmake
# Runs PROG and checks its exit status (a number, or CMake's words for a
# signal: "Subprocess aborted") and that its stdout (and stderr, if
# EXPECT_ERR is given) matches.
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
if(DEFINED EXPECT_ERR AND NOT err MATCHES "${EXPECT_ERR}")
	message(FATAL_ERROR "stderr does not match: ${EXPECT_ERR}")
endif()
