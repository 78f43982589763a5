# SPDX-License-Identifier: Apache-2.0
# The allocator under test of the benchmark drivers that run any allocator
# the same way (bench/heap_backend.h: the x86-64 worst-case counter and
# bookkeeping sweep in kheap_bench, the Cortex-M worst-case image, the
# code-size probe). Empty: kheap. Otherwise KHEAP_BENCH_BACKEND is a
# backend header (an absolute path) and the other three variables the
# allocator's sources, include directories and definitions (lists), for
# measuring another allocator from a checkout outside this tree under
# the same driver and workloads. The project itself never sets them.
set(KHEAP_BENCH_BACKEND "" CACHE FILEPATH
	"Backend header of the allocator under test (empty: kheap)")
set(KHEAP_BENCH_BACKEND_SOURCES "" CACHE STRING
	"Sources of the allocator under test (a list)")
set(KHEAP_BENCH_BACKEND_INCLUDES "" CACHE STRING
	"Include directories of the allocator under test (a list)")
set(KHEAP_BENCH_BACKEND_DEFINITIONS "" CACHE STRING
	"Definitions for the allocator under test (a list)")

# kheap_bench_backend(<target>): build <target> against the backend.
# The backend's own sources link the project's warnings (every target
# does) but are compiled with -w, which silences them: not our code.
function(kheap_bench_backend target)
	if(KHEAP_BENCH_BACKEND STREQUAL "")
		return()
	endif()
	target_compile_definitions(${target} PRIVATE
		"KHEAP_BENCH_BACKEND=\"${KHEAP_BENCH_BACKEND}\""
		KHEAP_BENCH_BACKEND_ADAPTER=1
		${KHEAP_BENCH_BACKEND_DEFINITIONS})
	target_include_directories(${target} SYSTEM PRIVATE
		${KHEAP_BENCH_BACKEND_INCLUDES})
	if(KHEAP_BENCH_BACKEND_SOURCES)
		set(_lib ${target}_backend)
		add_library(${_lib} STATIC ${KHEAP_BENCH_BACKEND_SOURCES})
		target_include_directories(${_lib} PRIVATE
			${KHEAP_BENCH_BACKEND_INCLUDES})
		target_compile_definitions(${_lib} PRIVATE
			${KHEAP_BENCH_BACKEND_DEFINITIONS})
		target_link_libraries(${_lib} PRIVATE kheap_warnings)
		target_compile_options(${_lib} PRIVATE -w)
		# The allocator under test is the core of such a build: the
		# core's optimisation level (KHEAP_CORE_OPT) applies to it.
		if(_kheap_core_opt_flags)
			target_compile_options(${_lib} PRIVATE
				${_kheap_core_opt_flags})
		endif()
		target_link_libraries(${target} PRIVATE ${_lib})
	endif()
endfunction()
