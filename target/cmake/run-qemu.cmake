# SPDX-License-Identifier: Apache-2.0
# Run a target image under QEMU and judge it by its exit status.
#
# cmake -DQEMU=<qemu-system-arm> -DMACHINE=<board> -DIMAGE=<elf>
#       [-DARGS=<arg0>,<arg1>,...] [-DEXPECT_RC=<status>]
#       [-DEXPECT_OUT=<regex>] [-DTIMEOUT=<seconds>] -P run-qemu.cmake
#
# The image gets ARGS as its command line through semihosting (argv[0]
# first) and reports its result as its exit status, which QEMU returns
# (semihosting SYS_EXIT_EXTENDED). The run is killed after TIMEOUT seconds
# (default 120) and then fails. EXPECT_RC defaults to 0; EXPECT_OUT, if
# given, must match the output (stdout and stderr).
cmake_minimum_required(VERSION 3.25)

foreach(var QEMU MACHINE IMAGE)
	if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
		message(FATAL_ERROR "run-qemu: ${var} is not set")
	endif()
endforeach()
if(NOT DEFINED EXPECT_RC OR "${EXPECT_RC}" STREQUAL "")
	set(EXPECT_RC 0)
endif()
if(NOT DEFINED TIMEOUT OR "${TIMEOUT}" STREQUAL "")
	set(TIMEOUT 120)
endif()

set(semihosting "enable=on,target=native")
if(DEFINED ARGS AND NOT "${ARGS}" STREQUAL "")
	string(REPLACE "," ";" arg_list "${ARGS}")
	foreach(arg IN LISTS arg_list)
		string(APPEND semihosting ",arg=${arg}")
	endforeach()
endif()

set(command "${QEMU}" -machine "${MACHINE}" -nographic -monitor none
	-serial null -semihosting-config "${semihosting}" -kernel "${IMAGE}")
string(REPLACE ";" " " shown "${command}")
message("run-qemu: ${shown}")

string(TIMESTAMP start "%s")
execute_process(COMMAND ${command}
	TIMEOUT ${TIMEOUT}
	RESULT_VARIABLE rc
	OUTPUT_VARIABLE out
	ERROR_VARIABLE err)
string(TIMESTAMP end "%s")
math(EXPR seconds "${end} - ${start}")

message("${out}")
if(NOT "${err}" STREQUAL "")
	message("${err}")
endif()
message("run-qemu: ${MACHINE}: exit status ${rc} after about ${seconds} s "
	"(expected ${EXPECT_RC})")

if(NOT "${rc}" STREQUAL "${EXPECT_RC}")
	if(NOT rc MATCHES "^[0-9]+$")
		message(FATAL_ERROR "run-qemu: ${rc} (limit ${TIMEOUT} s)")
	endif()
	message(FATAL_ERROR "run-qemu: exit status ${rc}, expected ${EXPECT_RC}")
endif()
if(DEFINED EXPECT_OUT AND NOT "${EXPECT_OUT}" STREQUAL "")
	if(NOT "${out}${err}" MATCHES "${EXPECT_OUT}")
		message(FATAL_ERROR "run-qemu: output does not match: ${EXPECT_OUT}")
	endif()
endif()
