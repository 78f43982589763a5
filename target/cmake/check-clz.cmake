# SPDX-License-Identifier: Apache-2.0
# Check which count-leading-zeros path a linked image uses.
#
# cmake -DNM=<nm> -DIMAGE=<elf> -DEXPECT=soft|hardware -P check-clz.cmake
#
# soft:     the core's bit-position table z_heap_bit_of is linked and
#           libgcc's __clzsi2 is not (ARMv6-M: no CLZ instruction,
#           KHEAP_SOFT_CLZ in effect: the bit scans are inlined
#           multiplications and that table, heap_internal.h);
# hardware: neither is linked (the CLZ instruction is used inline).
cmake_minimum_required(VERSION 3.25)

foreach(var NM IMAGE EXPECT)
	if(NOT DEFINED ${var})
		message(FATAL_ERROR "check-clz: ${var} is not set")
	endif()
endforeach()

execute_process(COMMAND "${NM}" "${IMAGE}"
	RESULT_VARIABLE rc
	OUTPUT_VARIABLE symbols
	ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "check-clz: ${NM} failed: ${err}")
endif()

set(symbols "\n${symbols}\n")
set(soft FALSE)
set(libgcc FALSE)
if(symbols MATCHES "\n[0-9a-fA-F]+ [TtRr] z_heap_bit_of\n")
	set(soft TRUE)
endif()
if(symbols MATCHES "\n[0-9a-fA-F]+ [Tt] __clzsi2\n")
	set(libgcc TRUE)
endif()
message(STATUS "${IMAGE}: z_heap_bit_of linked: ${soft}, "
	"__clzsi2 linked: ${libgcc}")

if(libgcc)
	message(FATAL_ERROR "check-clz: libgcc's __clzsi2 is linked")
endif()
if(EXPECT STREQUAL "soft" AND NOT soft)
	message(FATAL_ERROR "check-clz: z_heap_bit_of is not linked "
		"(KHEAP_SOFT_CLZ not in effect?)")
endif()
if(EXPECT STREQUAL "hardware" AND soft)
	message(FATAL_ERROR "check-clz: z_heap_bit_of is linked although "
		"the CPU has CLZ")
endif()
message(STATUS "check-clz: ${EXPECT} count-leading-zeros path: OK")
