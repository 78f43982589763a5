# SPDX-License-Identifier: Apache-2.0
# Check that a static library is freestanding: every symbol it references
# is either defined inside the library or in the allowed list.
#
# cmake -DNM=<nm> -DLIBRARY=<archive> [-DALLOWED="memcpy;memset"]
#       [-DALLOWED_PATTERN=<regex>] -P check-freestanding.cmake
#
# Used by the cross presets (core-freestanding-<cpu> test): the core may
# call memcpy/memset/memmove and the ARM EABI run-time helpers
# (__aeabi_*), nothing else: no other libc function, no __clzsi2 (the
# software count-leading-zeros path exists so ARMv6-M does not need it).
cmake_minimum_required(VERSION 3.25)

foreach(var NM LIBRARY)
	if(NOT DEFINED ${var})
		message(FATAL_ERROR "check-freestanding: ${var} is not set")
	endif()
endforeach()
if(NOT DEFINED ALLOWED)
	set(ALLOWED memcpy memset memmove)
endif()

execute_process(
	COMMAND "${NM}" -g "${LIBRARY}"
	OUTPUT_VARIABLE nm_out
	ERROR_VARIABLE nm_err
	RESULT_VARIABLE nm_rc)
if(NOT nm_rc EQUAL 0)
	message(FATAL_ERROR "check-freestanding: ${NM} failed: ${nm_err}")
endif()

string(REPLACE "\n" ";" lines "${nm_out}")
set(defined "")
set(undefined "")
foreach(line IN LISTS lines)
	if(line MATCHES "^ +U ([^ ]+)$")
		list(APPEND undefined "${CMAKE_MATCH_1}")
	elseif(line MATCHES "^[0-9a-fA-F]+ [A-TV-Z] ([^ ]+)$")
		list(APPEND defined "${CMAKE_MATCH_1}")
	endif()
endforeach()
list(REMOVE_DUPLICATES undefined)

set(bad "")
set(helpers "")
foreach(sym IN LISTS undefined)
	if(sym IN_LIST defined OR sym IN_LIST ALLOWED)
		continue()
	endif()
	if(DEFINED ALLOWED_PATTERN AND sym MATCHES "${ALLOWED_PATTERN}")
		list(APPEND helpers "${sym}")
		continue()
	endif()
	list(APPEND bad "${sym}")
endforeach()

list(LENGTH defined n_defined)
message(STATUS "${LIBRARY}: ${n_defined} global symbols defined")
if(helpers)
	message(STATUS "run-time helpers referenced: ${helpers}")
endif()
if(bad)
	message(FATAL_ERROR "not freestanding: undefined references to: ${bad}")
endif()
message(STATUS "freestanding: OK (external references limited to: ${ALLOWED})")
