# SPDX-License-Identifier: Apache-2.0
# cmake -DKHEAP_SOURCE_DIR=... -DPROJECT_DIR=... -DBUILD_DIR=... -DCONF=...
#       -DEXPECT=<regex> -P expect_configure_failure.cmake
# Configure the project in PROJECT_DIR with the fragment CONF: it must
# fail, and its output must match EXPECT.
file(REMOVE_RECURSE "${BUILD_DIR}")
execute_process(
	COMMAND ${CMAKE_COMMAND} -S "${PROJECT_DIR}" -B "${BUILD_DIR}"
		"-DKHEAP_SOURCE_DIR=${KHEAP_SOURCE_DIR}" "-DCONF=${CONF}"
	RESULT_VARIABLE result
	OUTPUT_VARIABLE out
	ERROR_VARIABLE err)
if(result EQUAL 0)
	message(FATAL_ERROR "configuring with ${CONF} succeeded:\n${out}${err}")
endif()
# CMake wraps long messages: compare with the line breaks taken out.
string(REGEX REPLACE " *\n *" " " joined "${err}")
if(NOT joined MATCHES "${EXPECT}")
	message(FATAL_ERROR "configuring with ${CONF} failed, but without "
		"'${EXPECT}':\n${err}")
endif()
message(STATUS "refused as expected: ${EXPECT}")
