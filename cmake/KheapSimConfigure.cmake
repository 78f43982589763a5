# SPDX-License-Identifier: Apache-2.0
# Configuration the Zephyr way for programs on the kheap simulator:
#
#   kheap_sim_configure(<target> <prj.conf> [<more.conf>...])
#
# applies Kconfig fragments (Zephyr's prj.conf syntax; later files win) to
# an executable: it links the target with a variant of the simulator, the
# kernel layer and the core compiled with the options kheap implements
# (one variant per distinct set of those options, shared by every target
# that has the same set), and gives the target all the fragment's options
# as Zephyr's generated <zephyr/autoconf.h> (read with -imacros, as Zephyr
# does). A memory option kheap does not implement stops the configuration
# with a message naming it; options that do not concern kheap are listed
# and passed to the target only. docs/simulator.md, "Kconfig fragments:
# kheap_sim_configure", has the table of options.
#
# Also here: the functions that build the simulator's libraries
# (kheap_sim_add_objects, kheap_sim_add_port, kheap_sim_add_kernel), used
# by sim/CMakeLists.txt for the stock kheap_sim and by kheap_sim_configure
# for its variants, so that both are built the same way.
#
# Included by sim/CMakeLists.txt, which records the source lists in global
# properties (kheap_sim_configure may be called from any directory). The
# parsing and checking need nothing else: a project that only includes
# this file can check a fragment (tests/config uses that to test refusals).

include_guard(GLOBAL)

# ---------------------------------------------------------------------------
# _kheap_kconfig_tables(): the tables below, as variables of the caller
# (a macro: the caller may be in any directory, and variables set when this
# file was included are visible only in the including directory).
# ---------------------------------------------------------------------------
macro(_kheap_kconfig_tables)
	# The options kheap implements: name|type|where the value goes.
	#   types: bool01  y/n, passed on as 1/0 (kheap reads it with #if)
	#          bool1   y passed on as 1; n leaves it undefined
	#          bool    y/n, nothing passed on (see where: NONE)
	#          int     a decimal or 0x-hexadecimal integer in the range
	#                  _KHEAP_KCONFIG_RANGE_<name> gives
	#   where: CORE (kheap_core), KERNEL (the kernel layer), SIM (the
	#          simulator), joined with +, ALL (all three), NONE (accepted
	#          with nothing to build differently; docs/simulator.md says
	#          why)
	set(_KHEAP_KCONFIG_OPTIONS
		"CONFIG_HEAP_MEM_POOL_SIZE|int|KERNEL"
		"CONFIG_KERNEL_MEM_POOL|bool|NONE"
		"CONFIG_SYS_HEAP_LISTENER|bool01|CORE"
		"CONFIG_SYS_HEAP_MONITOR|bool01|CORE"
		"CONFIG_SYS_HEAP_HARDENING_LEVEL|int|CORE"
		"CONFIG_SYS_HEAP_HARDENING_NONE|bool|NONE"
		"CONFIG_SYS_HEAP_HARDENING_BASIC|bool|NONE"
		"CONFIG_SYS_HEAP_HARDENING_MODERATE|bool|NONE"
		"CONFIG_SYS_HEAP_HARDENING_FULL|bool|NONE"
		"CONFIG_SYS_HEAP_HARDENING_EXTREME|bool|NONE"
		"CONFIG_SYS_HEAP_VALIDATE|bool|NONE"
		"CONFIG_SYS_HEAP_RUNTIME_STATS|bool|NONE"
		"CONFIG_SYS_HEAP_INFO|bool|NONE"
		"CONFIG_SYS_HEAP_AUTO|bool|NONE"
		"CONFIG_SYS_HEAP_ALLOC_LOOPS|int|NONE"
		"CONFIG_SYS_HEAP_ARRAY_SIZE|int|CORE"
		"CONFIG_MULTI_HEAP|bool|NONE"
		"CONFIG_ASSERT|bool1|ALL"
		"CONFIG_SYS_CLOCK_TICKS_PER_SEC|int|KERNEL+SIM"
		"CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC|int|SIM"
		"CONFIG_NUM_COOP_PRIORITIES|int|SIM"
		"CONFIG_NUM_PREEMPT_PRIORITIES|int|SIM"
		"CONFIG_MAIN_THREAD_PRIORITY|int|SIM"
		"CONFIG_THREAD_MAX_NAME_LEN|int|SIM"
		"CONFIG_PRIORITY_CEILING|int|SIM")

	# Memory options kheap does not implement: these names, and any name that
	# matches _KHEAP_KCONFIG_MEMORY_PATTERN, stop the configuration when set
	# to anything but n.
	set(_KHEAP_KCONFIG_MEMORY_PATTERN
		"^CONFIG_(HEAP_|SYS_HEAP_|KHEAP_|MULTI_HEAP|SHARED_MULTI_HEAP)|(^CONFIG_|_)(MEM|MEMORY|MALLOC|SLAB)(_|$)")
	set(_KHEAP_KCONFIG_WHY_SYS_HEAP_SMALL_ONLY
		"kheap chooses 4- or 8-byte block headers by region size, as CONFIG_SYS_HEAP_AUTO does")
	set(_KHEAP_KCONFIG_WHY_SYS_HEAP_BIG_ONLY
		"${_KHEAP_KCONFIG_WHY_SYS_HEAP_SMALL_ONLY}")

	# The range of each int option: "<min>" or "<min>|<max>".
	set(_KHEAP_KCONFIG_RANGE_CONFIG_HEAP_MEM_POOL_SIZE "0")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_SYS_HEAP_HARDENING_LEVEL "0|4")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_SYS_HEAP_ALLOC_LOOPS "1")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_SYS_HEAP_ARRAY_SIZE "0")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_SYS_CLOCK_TICKS_PER_SEC "1")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_SYS_CLOCK_HW_CYCLES_PER_SEC "1")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_NUM_COOP_PRIORITIES "0")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_NUM_PREEMPT_PRIORITIES "1")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_MAIN_THREAD_PRIORITY "-256")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_THREAD_MAX_NAME_LEN "2")
	set(_KHEAP_KCONFIG_RANGE_CONFIG_PRIORITY_CEILING "-256")
endmacro()

# ---- parsing ----------------------------------------------------------------

# _kheap_kconfig_parse(<prefix> <file>...)
# Sets <prefix>_NAMES (the options in the order first set) and
# <prefix>_<NAME> (the last value: y, n, an integer or a "string").
function(_kheap_kconfig_parse prefix)
	set(names "")
	foreach(file IN LISTS ARGN)
		if(NOT IS_ABSOLUTE "${file}")
			set(file "${CMAKE_CURRENT_SOURCE_DIR}/${file}")
		endif()
		if(NOT EXISTS "${file}")
			message(FATAL_ERROR "kheap_sim_configure: ${file}: no such file")
		endif()
		file(READ "${file}" text)
		# Lines become list elements: protect the list separator first.
		string(REPLACE ";" "<kheap-semicolon>" text "${text}")
		string(REPLACE "\r" "" text "${text}")
		string(REPLACE "\n" ";" lines "${text}")
		set(line_number 0)
		foreach(line IN LISTS lines)
			math(EXPR line_number "${line_number} + 1")
			string(STRIP "${line}" line)
			set(where "${file}:${line_number}")
			if(line MATCHES "^# (CONFIG_[A-Za-z0-9_]+) is not set$")
				set(name "${CMAKE_MATCH_1}")
				set(value "n")
			elseif(line STREQUAL "" OR line MATCHES "^#")
				continue()
			elseif(line MATCHES "^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
				set(name "${CMAKE_MATCH_1}")
				set(value "${CMAKE_MATCH_2}")
				if(NOT value MATCHES "^(y|n|-?[0-9]+|0[xX][0-9a-fA-F]+|\"([^\"\\\\]|\\\\.)*\")$")
					string(REPLACE "<kheap-semicolon>" ";" shown "${value}")
					message(FATAL_ERROR "kheap_sim_configure: ${where}: "
						"${name}=${shown}: the value must be y, n, an "
						"integer or a \"string\"")
				endif()
				string(REPLACE "<kheap-semicolon>" ";" value "${value}")
			else()
				string(REPLACE "<kheap-semicolon>" ";" shown "${line}")
				message(FATAL_ERROR "kheap_sim_configure: ${where}: "
					"not a Kconfig assignment: ${shown}")
			endif()
			if(NOT name IN_LIST names)
				list(APPEND names "${name}")
			endif()
			set(${prefix}_${name} "${value}" PARENT_SCOPE)
			set(${prefix}_${name}_AT "${where}" PARENT_SCOPE)
		endforeach()
	endforeach()
	set(${prefix}_NAMES "${names}" PARENT_SCOPE)
endfunction()

# _kheap_kconfig_int(<out> <where> <name> <value> <min> [<max>])
# The value as a decimal integer, checked against [min, max].
function(_kheap_kconfig_int out where name value min)
	if(NOT value MATCHES "^(-?[0-9]+|0[xX][0-9a-fA-F]+)$")
		message(FATAL_ERROR "kheap_sim_configure: ${where}: ${name}=${value}: "
			"expected an integer")
	endif()
	math(EXPR number "${value}" OUTPUT_FORMAT DECIMAL)
	set(max "${ARGN}")
	if(number LESS min OR (NOT max STREQUAL "" AND number GREATER max))
		if(max STREQUAL "")
			set(range "at least ${min}")
		else()
			set(range "${min} to ${max}")
		endif()
		message(FATAL_ERROR "kheap_sim_configure: ${where}: ${name}=${value}: "
			"expected ${range}")
	endif()
	set(${out} "${number}" PARENT_SCOPE)
endfunction()

# _kheap_kconfig_resolve(<prefix>)
# From a parsed fragment (<prefix>_NAMES, <prefix>_<NAME>): sets
# <prefix>_CORE_DEFS, <prefix>_KERNEL_DEFS, <prefix>_SIM_DEFS (the
# definitions each library variant is compiled with), <prefix>_APP_NAMES
# (the options only the application sees) and <prefix>_UNRELATED (the
# options kheap does not read). Stops on anything kheap cannot honour.
function(_kheap_kconfig_resolve prefix)
	_kheap_kconfig_tables()
	set(core "")
	set(kernel "")
	set(sim "")
	set(app_names "")
	set(unrelated "")
	set(refused "")
	set(hardening_level "")
	set(hardening_from "")
	set(hardening_names NONE BASIC MODERATE FULL EXTREME)
	set(no_kernel_pool FALSE)
	foreach(name IN LISTS ${prefix}_NAMES)
		set(value "${${prefix}_${name}}")
		set(where "${${prefix}_${name}_AT}")
		set(entry "")
		foreach(option IN LISTS _KHEAP_KCONFIG_OPTIONS)
			if(option MATCHES "^${name}\\|")
				set(entry "${option}")
			endif()
		endforeach()
		if(entry STREQUAL "")
			# Not ours: refused if it is a memory option being
			# turned on, else the application's alone.
			string(REGEX REPLACE "^CONFIG_" "" short "${name}")
			if(value STREQUAL "n")
				list(APPEND app_names "${name}")
			elseif(DEFINED _KHEAP_KCONFIG_WHY_${short})
				list(APPEND refused "${where}: ${name}=${value}: not implemented (${_KHEAP_KCONFIG_WHY_${short}})")
			elseif(name MATCHES "^CONFIG_KHEAP_")
				string(CONCAT why "a kheap build option, set by "
					"CMake (KHEAP_SANITIZER, KHEAP_HARDENING_LEVEL "
					"or the test targets), not by a Kconfig fragment")
				list(APPEND refused "${where}: ${name}=${value}: ${why}")
			elseif(name MATCHES "${_KHEAP_KCONFIG_MEMORY_PATTERN}")
				list(APPEND refused "${where}: ${name}=${value}: a memory option kheap does not implement")
			else()
				list(APPEND app_names "${name}")
				list(APPEND unrelated "${name}")
			endif()
			continue()
		endif()
		string(REPLACE "|" ";" fields "${entry}")
		list(GET fields 1 type)
		list(GET fields 2 target)
		# The definition this value gives the libraries, if any.
		set(definition "")
		if(type MATCHES "^bool")
			if(NOT value MATCHES "^[yn]$")
				message(FATAL_ERROR "kheap_sim_configure: ${where}: "
					"${name}=${value}: expected y or n")
			endif()
			if(type STREQUAL "bool01")
				if(value STREQUAL "y")
					set(definition "${name}=1")
				else()
					set(definition "${name}=0")
				endif()
			elseif(type STREQUAL "bool1" AND value STREQUAL "y")
				set(definition "${name}=1")
			endif()
		else()
			string(REPLACE "|" ";" range
				"${_KHEAP_KCONFIG_RANGE_${name}}")
			_kheap_kconfig_int(number "${where}" "${name}" "${value}"
				${range})
			set(definition "${name}=${number}")
		endif()
		# Options with a meaning beyond their own definition.
		if(name MATCHES "^CONFIG_SYS_HEAP_HARDENING_(NONE|BASIC|MODERATE|FULL|EXTREME)$"
				AND value STREQUAL "y")
			list(FIND hardening_names "${CMAKE_MATCH_1}" level)
			set(hardening_choice "${level}")
		elseif(name STREQUAL "CONFIG_SYS_HEAP_HARDENING_LEVEL")
			set(hardening_choice "${number}")
		else()
			set(hardening_choice "")
		endif()
		if(NOT hardening_choice STREQUAL "")
			if(NOT name STREQUAL "CONFIG_SYS_HEAP_HARDENING_LEVEL")
				# The choice symbol itself, for the application.
				list(APPEND app_names "${name}")
			endif()
			if(NOT hardening_level STREQUAL "" AND
					NOT hardening_level EQUAL hardening_choice)
				message(FATAL_ERROR "kheap_sim_configure: ${where}: "
					"${name}=${value} contradicts ${hardening_from}")
			endif()
			set(hardening_level "${hardening_choice}")
			set(hardening_from "${name}=${value} (${where})")
			continue()
		endif()
		if(name STREQUAL "CONFIG_KERNEL_MEM_POOL" AND value STREQUAL "n")
			# No kernel pool: no system heap (checked below).
			set(no_kernel_pool TRUE)
		endif()
		if(definition STREQUAL "" OR target STREQUAL "NONE")
			list(APPEND app_names "${name}")
			continue()
		endif()
		if(target MATCHES "CORE|ALL")
			list(APPEND core "${definition}")
		endif()
		if(target MATCHES "KERNEL|ALL")
			list(APPEND kernel "${definition}")
		endif()
		if(target MATCHES "SIM|ALL")
			list(APPEND sim "${definition}")
		endif()
	endforeach()
	if(refused)
		list(JOIN refused "\n  " text)
		message(FATAL_ERROR "kheap_sim_configure: the simulator cannot "
			"honour these options:\n  ${text}\nRemove them from the "
			"fragment (docs/simulator.md lists what kheap implements).")
	endif()
	if(NOT hardening_level STREQUAL "")
		list(APPEND core "CONFIG_SYS_HEAP_HARDENING_LEVEL=${hardening_level}")
	endif()
	if(no_kernel_pool)
		if(kernel MATCHES "CONFIG_HEAP_MEM_POOL_SIZE=([1-9][0-9]*)")
			message(FATAL_ERROR "kheap_sim_configure: "
				"CONFIG_KERNEL_MEM_POOL=n leaves no system heap, but "
				"CONFIG_HEAP_MEM_POOL_SIZE=${CMAKE_MATCH_1} asks for one")
		endif()
		list(APPEND kernel "CONFIG_HEAP_MEM_POOL_SIZE=0")
	endif()
	foreach(list core kernel sim)
		list(REMOVE_DUPLICATES ${list})
		list(SORT ${list})
	endforeach()
	set(${prefix}_CORE_DEFS "${core}" PARENT_SCOPE)
	set(${prefix}_KERNEL_DEFS "${kernel}" PARENT_SCOPE)
	set(${prefix}_SIM_DEFS "${sim}" PARENT_SCOPE)
	set(${prefix}_APP_NAMES "${app_names}" PARENT_SCOPE)
	set(${prefix}_UNRELATED "${unrelated}" PARENT_SCOPE)
endfunction()

# ---- the simulator's libraries ------------------------------------------------

# kheap_sim_add_objects(<name> [DEFINITIONS <def>...])
# The simulator's objects (an OBJECT library), with <def>s PUBLIC.
function(kheap_sim_add_objects name)
	cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "DEFINITIONS")
	get_property(sources GLOBAL PROPERTY KHEAP_SIM_SOURCES)
	get_property(sim_dir GLOBAL PROPERTY KHEAP_SIM_DIR)
	get_property(have_kernel GLOBAL PROPERTY KHEAP_SIM_HAVE_KERNEL)
	# Threads::Threads is imported per directory: this one may be new.
	find_package(Threads REQUIRED)
	add_library(${name} OBJECT ${sources})
	target_include_directories(${name} PUBLIC
		"${sim_dir}/include"
		"${sim_dir}/../core/include")
	target_compile_features(${name} PUBLIC c_std_11)
	target_compile_definitions(${name} PRIVATE
		_GNU_SOURCE KHEAP_SIM_INTERNAL)
	if(have_kernel)
		# With the kernel layer linked, thread exit calls
		# z_thread_pool_release directly.
		target_compile_definitions(${name} PRIVATE
			KHEAP_SIM_HAVE_KERNEL=1)
	endif()
	if(ARG_DEFINITIONS)
		target_compile_definitions(${name} PUBLIC ${ARG_DEFINITIONS})
	endif()
	target_link_libraries(${name}
		PUBLIC Threads::Threads ${CMAKE_DL_LIBS}
		PRIVATE kheap_warnings)
endfunction()

# kheap_sim_add_port(<name> <objects>)
# An INTERFACE library that links a program with the simulator's objects:
# the objects themselves (the kernel layer calls back into the port after
# them on the link line, so no archive), -Wl,--wrap=main so that the
# program's main() runs as the main thread, and KHEAP_HEAP_NAMES=1 so that
# K_HEAP_DEFINE records heap names for the allocation trace.
function(kheap_sim_add_port name objects)
	find_package(Threads REQUIRED)
	add_library(${name} INTERFACE)
	target_sources(${name} INTERFACE $<TARGET_OBJECTS:${objects}>)
	target_link_libraries(${name} INTERFACE ${objects} Threads::Threads)
	target_link_options(${name} INTERFACE "LINKER:--wrap=main")
	target_compile_definitions(${name} INTERFACE KHEAP_HEAP_NAMES=1)
endfunction()

# kheap_sim_add_kernel(<name> <core> [DEFINITIONS <def>...])
# The kernel layer over <core>, with the tracing hooks that feed the
# simulator's allocation trace recorder (sim/src/sim_trace_hooks.h) and
# <def>s PUBLIC.
function(kheap_sim_add_kernel name core)
	cmake_parse_arguments(PARSE_ARGV 2 ARG "" "" "DEFINITIONS")
	get_property(sources GLOBAL PROPERTY KHEAP_SIM_KERNEL_SOURCES)
	get_property(sim_dir GLOBAL PROPERTY KHEAP_SIM_DIR)
	add_library(${name} STATIC ${sources})
	target_compile_options(${name} PRIVATE
		"SHELL:-include ${sim_dir}/src/sim_trace_hooks.h")
	target_link_libraries(${name}
		PUBLIC ${core}
		PRIVATE kheap_core_warnings)
	if(ARG_DEFINITIONS)
		target_compile_definitions(${name} PUBLIC ${ARG_DEFINITIONS})
	endif()
	if(KHEAP_COVERAGE)
		target_compile_options(${name} PRIVATE -fprofile-update=atomic)
	endif()
endfunction()

# ---- kheap_sim_configure ------------------------------------------------------

# _kheap_variant_name(<out> <stem> <text>): <stem>_<12 hex digits of
# the text's SHA-256>.
function(_kheap_variant_name out stem text)
	string(SHA256 hash "${text}")
	string(SUBSTRING "${hash}" 0 12 hash)
	set(${out} "${stem}_${hash}" PARENT_SCOPE)
endfunction()

# Write <path> with <content> unless it already holds exactly that (so
# that reconfiguring does not rebuild the application).
function(_kheap_write_if_changed path content)
	if(EXISTS "${path}")
		file(READ "${path}" old)
		if(old STREQUAL content)
			return()
		endif()
	endif()
	file(WRITE "${path}" "${content}")
endfunction()

function(kheap_sim_configure target)
	if(ARGC LESS 2)
		message(FATAL_ERROR "kheap_sim_configure(<target> <prj.conf>...): "
			"no fragment given")
	endif()
	set(fragments ${ARGN})
	_kheap_kconfig_parse(cfg ${fragments})
	_kheap_kconfig_resolve(cfg)

	if(NOT TARGET ${target})
		message(FATAL_ERROR "kheap_sim_configure: ${target} is not a target")
	endif()
	get_target_property(type ${target} TYPE)
	if(NOT type STREQUAL "EXECUTABLE")
		message(FATAL_ERROR "kheap_sim_configure: ${target} is not an "
			"executable")
	endif()
	get_target_property(links ${target} LINK_LIBRARIES)
	if(links AND ("kheap_sim" IN_LIST links OR "kheap_sim_port" IN_LIST links))
		message(FATAL_ERROR "kheap_sim_configure: ${target} links "
			"kheap_sim itself; kheap_sim_configure links the "
			"configured simulator instead")
	endif()
	if(NOT TARGET kheap_sim OR NOT TARGET kheap_kernel_sim)
		message(FATAL_ERROR "kheap_sim_configure: the kheap simulator "
			"with its kernel layer is not part of this build")
	endif()
	foreach(fragment IN LISTS fragments)
		if(NOT IS_ABSOLUTE "${fragment}")
			set(fragment "${CMAKE_CURRENT_SOURCE_DIR}/${fragment}")
		endif()
		set_property(DIRECTORY APPEND PROPERTY
			CMAKE_CONFIGURE_DEPENDS "${fragment}")
	endforeach()
	if(cfg_UNRELATED)
		list(JOIN cfg_UNRELATED ", " text)
		message(STATUS "kheap_sim_configure(${target}): not read by "
			"kheap, given to ${target} only: ${text}")
	endif()

	# The libraries: for each layer the stock one, or the variant for
	# these options, named after a hash of the definitions it is built
	# with (and of those of the layers below it) and built once for every
	# target that asks for the same.
	# kheap_add_core (top-level CMakeLists.txt) compiles these.
	get_property(KHEAP_CORE_SOURCES GLOBAL PROPERTY KHEAP_SIM_CORE_SOURCES)
	set(core kheap_core)
	set(kernel kheap_kernel_sim)
	set(port kheap_sim_port)
	set(sim_library kheap_sim)
	if(cfg_CORE_DEFS)
		_kheap_variant_name(core kheap_core_cfg "${cfg_CORE_DEFS}")
		if(NOT TARGET ${core})
			kheap_add_core(${core} DEFINITIONS ${cfg_CORE_DEFS})
			if(KHEAP_COVERAGE)
				target_compile_options(${core} PRIVATE
					-fprofile-update=atomic)
			endif()
		endif()
	endif()
	if(cfg_KERNEL_DEFS OR cfg_CORE_DEFS)
		_kheap_variant_name(kernel kheap_kernel_sim_cfg
			"${core}|${cfg_KERNEL_DEFS}")
		if(NOT TARGET ${kernel})
			kheap_sim_add_kernel(${kernel} ${core}
				DEFINITIONS ${cfg_KERNEL_DEFS})
		endif()
	endif()
	if(cfg_SIM_DEFS)
		_kheap_variant_name(port kheap_sim_port_cfg "${cfg_SIM_DEFS}")
		string(REPLACE "kheap_sim_port_cfg" "kheap_sim_objs_cfg" objects
			"${port}")
		if(NOT TARGET ${port})
			kheap_sim_add_objects(${objects}
				DEFINITIONS ${cfg_SIM_DEFS})
			kheap_sim_add_port(${port} ${objects})
		endif()
	endif()
	if(NOT port STREQUAL "kheap_sim_port" OR
			NOT kernel STREQUAL "kheap_kernel_sim")
		_kheap_variant_name(sim_library kheap_sim_cfg "${port}|${kernel}")
		if(NOT TARGET ${sim_library})
			add_library(${sim_library} INTERFACE)
			target_link_libraries(${sim_library} INTERFACE ${port}
				${kernel})
			message(STATUS "kheap_sim_configure: ${sim_library}: "
				"core ${cfg_CORE_DEFS}; kernel ${cfg_KERNEL_DEFS}; "
				"simulator ${cfg_SIM_DEFS}")
		endif()
	endif()
	target_link_libraries(${target} PRIVATE ${sim_library})
	set_target_properties(${target} PROPERTIES KHEAP_SIM_VARIANT
		"${sim_library}")

	# The application's <zephyr/autoconf.h>: every option set, as
	# Zephyr generates it (y: 1, n: absent), except those the libraries
	# define for it already (their PUBLIC definitions reach it).
	set(content "/* Generated by kheap_sim_configure from ${fragments}. */\n")
	foreach(name IN LISTS cfg_APP_NAMES)
		set(value "${cfg_${name}}")
		if(value STREQUAL "n")
			continue()
		elseif(value STREQUAL "y")
			set(value 1)
		endif()
		string(APPEND content "#define ${name} ${value}\n")
	endforeach()
	set(dir "${CMAKE_CURRENT_BINARY_DIR}/kheap_sim_config/${target}")
	_kheap_write_if_changed("${dir}/zephyr/autoconf.h" "${content}")
	target_include_directories(${target} PRIVATE "${dir}")
	target_compile_options(${target} PRIVATE
		"SHELL:-imacros \"${dir}/zephyr/autoconf.h\"")
endfunction()
