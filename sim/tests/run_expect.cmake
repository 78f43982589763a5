# cmake -DPROG=<program> -DEXPECT_RC=<status> -DEXPECT_OUT=<regex>
#       -P run_expect.cmake
# Runs PROG and checks its exit status and that its stdout matches.
execute_process(COMMAND ${PROG}
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
