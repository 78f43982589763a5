# SPDX-License-Identifier: Apache-2.0
# One consumer test (tests/consumer/CMakeLists.txt): a small project that
# uses kheap the way an outside project does, generated in a scratch
# folder outside the source tree, configured, built and run.
#
#   cmake -DCASE=<case> -DKHEAP_SOURCE_DIR=<src> -DWORK_ROOT=<scratch>
#         [-DC_COMPILER=... -DCXX_COMPILER=... -DGENERATOR=...
#          -DMAKE_PROGRAM=... -DGIT=... -DPKG_CONFIG=... -DARM_GCC=...
#          -DARM_NM=... -DARM_READELF=... -DCPU_FLAGS=...
#          -DEXPECT_CPU_ARCH=... -DKHEAP_VERSION=... -DPREFIX=...]
#         -P consumer.cmake
#
# Cases:
#   copy          core/src and core/include copied, compiled with cc and
#                 the two definitions (hardening level, assert handler)
#   subdirectory  add_subdirectory, defaults: kheap::core, then kheap::sim
#   fetchcontent  FetchContent from a git snapshot of the checkout
#   install       cmake --install to <scratch>/prefix (fixture of the next
#                 three): files, the installed tool's --version
#   find_package  find_package(kheap 0.2) with kheap::core and kheap::sim
#   pkg_config    cc with pkg-config --cflags/--libs kheap and kheap-sim
#   cxx           a C++17 program on the installed kheap
#   cortex_m      a cross firmware with kheap::core/kernel/cortex_m (CPU_FLAGS)
#   cortex_m_package  the same firmware on a cross kheap installed to
#                 PREFIX, through find_package(kheap COMPONENTS cortex_m)
# A missing tool (C++ compiler, git, pkg-config, arm-none-eabi-gcc) is a
# failure: scripts/setup installs every one of them.
cmake_minimum_required(VERSION 3.25)

foreach(var CASE KHEAP_SOURCE_DIR WORK_ROOT)
	if(NOT ${var})
		message(FATAL_ERROR "consumer: ${var} is not set")
	endif()
endforeach()
set(templates "${CMAKE_CURRENT_LIST_DIR}/projects")
set(sources "${CMAKE_CURRENT_LIST_DIR}/src")
# Where consumer-install installs kheap (or, with PREFIX, an install of
# someone else's: scripts/cross installs its cross build there).
set(prefix "${WORK_ROOT}/prefix")
if(PREFIX)
	set(prefix "${PREFIX}")
endif()

# consumer_run(<what> <command>...): run, print the command; on failure
# stop with its output.
function(consumer_run what)
	string(JOIN " " shown ${ARGN})
	message(STATUS "${what}: ${shown}")
	execute_process(COMMAND ${ARGN}
		RESULT_VARIABLE status
		OUTPUT_VARIABLE output
		ERROR_VARIABLE output)
	if(NOT status EQUAL 0)
		message(FATAL_ERROR "consumer ${CASE}: ${what} failed "
			"(${status}):\n${shown}\n${output}")
	endif()
	set(consumer_output "${output}" PARENT_SCOPE)
endfunction()

# consumer_expect_program(<regex> <command>...): run a built program,
# check its exit status and that its output matches <regex>.
function(consumer_expect_program regex)
	consumer_run("run" ${ARGN})
	if(NOT consumer_output MATCHES "${regex}")
		message(FATAL_ERROR "consumer ${CASE}: ${ARGN} printed\n"
			"${consumer_output}\nwhich does not match '${regex}'")
	endif()
endfunction()

# consumer_project(<dir> [<template>]): a fresh <dir> with the shared
# sources in <dir>/src and a copy of the template project, if any.
function(consumer_project dir)
	file(REMOVE_RECURSE "${dir}")
	file(MAKE_DIRECTORY "${dir}")
	if(ARGN)
		file(COPY "${templates}/${ARGN}/" DESTINATION "${dir}")
	endif()
	file(COPY "${sources}" DESTINATION "${dir}")
endfunction()

function(consumer_need tool value)
	if(NOT value OR NOT EXISTS "${value}")
		message(FATAL_ERROR "consumer ${CASE}: ${tool} not found "
			"('${value}'); run ./scripts/setup")
	endif()
endfunction()

# The host build settings every consumer configure gets: the compiler
# and generator kheap's own build uses.
set(host_args -G "${GENERATOR}" "-DCMAKE_C_COMPILER=${C_COMPILER}")
if(MAKE_PROGRAM)
	list(APPEND host_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()

# consumer_check_firmware(<elf> <library>...): the image holds the heap,
# the kernel layer and the port, and every object of the libraries was
# built for the CPU asked for.
function(consumer_check_firmware elf)
	consumer_run("nm" "${ARM_NM}" "${elf}")
	foreach(symbol sys_heap_alloc k_heap_alloc k_malloc k_spin_lock
			z_pend_curr target_port_init SysTick_Handler)
		if(NOT consumer_output MATCHES "[0-9a-f]+ [A-Za-z] ${symbol}\n")
			message(FATAL_ERROR "consumer ${CASE}: ${symbol} is not "
				"in ${elf}")
		endif()
	endforeach()
	list(LENGTH ARGN count)
	if(count LESS 3)
		message(FATAL_ERROR "consumer ${CASE}: expected the core, kernel "
			"and port libraries, got '${ARGN}'")
	endif()
	foreach(library IN LISTS ARGN)
		consumer_run("readelf" "${ARM_READELF}" -A "${library}")
		string(REGEX MATCHALL "Tag_CPU_arch: [^\n]*" arches
			"${consumer_output}")
		list(REMOVE_DUPLICATES arches)
		if(NOT arches STREQUAL "Tag_CPU_arch: ${EXPECT_CPU_ARCH}")
			message(FATAL_ERROR "consumer ${CASE}: ${library} has "
				"'${arches}', expected "
				"'Tag_CPU_arch: ${EXPECT_CPU_ARCH}'")
		endif()
	endforeach()
endfunction()

set(ok_version "kheap ${KHEAP_VERSION}")
set(work "${WORK_ROOT}/${CASE}")

if(CASE STREQUAL "copy")
	consumer_project("${work}")
	file(COPY "${KHEAP_SOURCE_DIR}/core/src" "${KHEAP_SOURCE_DIR}/core/include"
		DESTINATION "${work}/kheap")
	file(GLOB core_sources "${work}/kheap/src/*.c")
	consumer_run("compile and link" "${C_COMPILER}" -std=c11 -O2 -Wall
		-Wextra -Wconversion -Wsign-conversion -Werror
		-DCONFIG_SYS_HEAP_HARDENING_LEVEL=3
		-DKHEAP_ASSERT_HANDLER=app_assert_fail
		"-I${work}/kheap/include" -o "${work}/app_copy"
		"${work}/src/app_copy.c" ${core_sources})
	consumer_expect_program("kheap copy: ok" "${work}/app_copy")

elseif(CASE STREQUAL "subdirectory")
	consumer_project("${work}" subdirectory)
	consumer_run("configure (kheap::core only)" "${CMAKE_COMMAND}"
		-S "${work}" -B "${work}/build" ${host_args}
		"-DKHEAP_SOURCE_DIR=${KHEAP_SOURCE_DIR}")
	consumer_run("build all" "${CMAKE_COMMAND}" --build "${work}/build")
	# A parent that links only the heap builds only the heap.
	file(GLOB_RECURSE built_archives "${work}/build/kheap/*.a")
	list(TRANSFORM built_archives REPLACE ".*/" "")
	if(NOT built_archives STREQUAL "libkheap_core.a")
		message(FATAL_ERROR "consumer ${CASE}: a parent linking only "
			"kheap::core built: ${built_archives}")
	endif()
	consumer_expect_program("${ok_version} core: ok" "${work}/build/app_core")
	consumer_run("configure (with kheap::sim)" "${CMAKE_COMMAND}"
		"${work}/build" -DAPP_WITH_SIM=ON)
	consumer_run("build all" "${CMAKE_COMMAND}" --build "${work}/build")
	consumer_expect_program("${ok_version} sim: ok" "${work}/build/app_sim")

elseif(CASE STREQUAL "fetchcontent")
	consumer_need(git "${GIT}")
	# A git repository of the checkout as it is (tracked files and new
	# ones not ignored, with their uncommitted changes), so that the
	# test checks the working tree, not the last commit.
	set(snapshot "${work}/kheap.git")
	file(REMOVE_RECURSE "${work}")
	file(MAKE_DIRECTORY "${snapshot}")
	execute_process(COMMAND "${GIT}" -c core.quotePath=false
			-C "${KHEAP_SOURCE_DIR}" ls-files --cached --others
			--exclude-standard
		RESULT_VARIABLE status OUTPUT_VARIABLE listing ERROR_QUIET)
	if(status EQUAL 0)
		string(REPLACE "\n" ";" files "${listing}")
	else()
		# Not a git checkout (a source archive): everything but the
		# build trees.
		file(GLOB_RECURSE files RELATIVE "${KHEAP_SOURCE_DIR}"
			"${KHEAP_SOURCE_DIR}/*")
		list(FILTER files EXCLUDE REGEX "^(build|\\.git)/")
	endif()
	# Files deleted in the working tree are still in the index.
	set(present "")
	foreach(file IN LISTS files)
		if(file AND EXISTS "${KHEAP_SOURCE_DIR}/${file}"
				AND NOT IS_DIRECTORY "${KHEAP_SOURCE_DIR}/${file}")
			string(APPEND present "${file}\n")
		endif()
	endforeach()
	file(WRITE "${work}/files.txt" "${present}")
	execute_process(COMMAND "${CMAKE_COMMAND}" -E tar cf
			"${work}/snapshot.tar" "--files-from=${work}/files.txt"
		WORKING_DIRECTORY "${KHEAP_SOURCE_DIR}"
		COMMAND_ERROR_IS_FATAL ANY)
	execute_process(COMMAND "${CMAKE_COMMAND}" -E tar xf
			"${work}/snapshot.tar"
		WORKING_DIRECTORY "${snapshot}"
		COMMAND_ERROR_IS_FATAL ANY)
	set(git_id -c user.name=kheap-consumer -c user.email=consumer@invalid
		-c init.defaultBranch=main -c commit.gpgsign=false)
	consumer_run("git init" "${GIT}" ${git_id} -C "${snapshot}" init -q)
	# -f: the snapshot holds only the files chosen above, some of which
	# may match a .gitignore pattern although git tracks them.
	consumer_run("git add" "${GIT}" ${git_id} -C "${snapshot}" add -A -f)
	consumer_run("git commit" "${GIT}" ${git_id} -C "${snapshot}"
		commit -q -m snapshot)
	consumer_run("git rev-parse" "${GIT}" -C "${snapshot}" rev-parse HEAD)
	string(STRIP "${consumer_output}" commit)

	consumer_project("${work}/app" fetchcontent)
	consumer_run("configure" "${CMAKE_COMMAND}" -S "${work}/app"
		-B "${work}/app/build" ${host_args} -DCMAKE_BUILD_TYPE=Debug
		"-DGIT_EXECUTABLE=${GIT}"
		"-DKHEAP_GIT_REPOSITORY=file://${snapshot}"
		"-DKHEAP_GIT_TAG=${commit}")
	consumer_run("build" "${CMAKE_COMMAND}" --build "${work}/app/build")
	consumer_expect_program("${ok_version} core: ok" "${work}/app/build/app_core")
	consumer_expect_program("${ok_version} sim: ok" "${work}/app/build/app_sim")

elseif(CASE STREQUAL "install")
	file(REMOVE_RECURSE "${work}" "${prefix}")
	consumer_run("configure kheap" "${CMAKE_COMMAND}"
		-S "${KHEAP_SOURCE_DIR}" -B "${work}/build" ${host_args}
		-DCMAKE_BUILD_TYPE=Release -DKHEAP_BUILD_TESTS=OFF
		-DKHEAP_BUILD_BENCH=OFF -DKHEAP_BUILD_FUZZ=OFF
		-DKHEAP_BUILD_TARGET_TESTS=OFF
		"-DCMAKE_INSTALL_PREFIX=${prefix}")
	consumer_run("build kheap" "${CMAKE_COMMAND}" --build "${work}/build"
		--parallel 2)
	consumer_run("install kheap" "${CMAKE_COMMAND}" --install
		"${work}/build")
	file(GLOB_RECURSE installed RELATIVE "${prefix}" "${prefix}/*")
	foreach(expected
			"include/zephyr/sys/sys_heap.h" "include/kheap/k_heap.h"
			"include/kheap/version.h" "include/kheap-sim/zephyr/kernel.h"
			"lib[^/]*/libkheap_core.a" "lib[^/]*/libkheap_kernel.a"
			"lib[^/]*/libkheap_sim.a"
			"lib[^/]*/cmake/kheap/kheapConfig.cmake"
			"lib[^/]*/cmake/kheap/kheapConfigVersion.cmake"
			"lib[^/]*/pkgconfig/kheap.pc" "lib[^/]*/pkgconfig/kheap-sim.pc"
			"bin/kheap" "share/man/man1/kheap.1"
			"share/doc/kheap/LICENSE" "share/doc/kheap/NOTICE")
		set(found "")
		foreach(file IN LISTS installed)
			if(file MATCHES "^${expected}$")
				set(found "${file}")
			endif()
		endforeach()
		if(NOT found)
			message(FATAL_ERROR "consumer ${CASE}: ${expected} was not "
				"installed; installed:\n${installed}")
		endif()
	endforeach()
	consumer_expect_program("^kheap ${KHEAP_VERSION} \\(trace format [0-9]+\\)"
		"${prefix}/bin/kheap" --version)
	# The installed manual page (written by kheap --man at build time)
	# renders with man-db's man, in the C locale (ASCII hyphens).
	find_program(consumer_man man)
	consumer_need(man "${consumer_man}")
	consumer_expect_program("kheap map TRACE -o FILE"
		"${CMAKE_COMMAND}" -E env LC_ALL=C MANWIDTH=100 "${consumer_man}"
		-l "${prefix}/share/man/man1/kheap.1")

elseif(CASE STREQUAL "find_package")
	consumer_project("${work}" find_package)
	consumer_run("configure" "${CMAKE_COMMAND}" -S "${work}"
		-B "${work}/build" ${host_args} "-DCMAKE_PREFIX_PATH=${prefix}"
		"-DKHEAP_EXPECTED_VERSION=${KHEAP_VERSION}")
	consumer_run("build" "${CMAKE_COMMAND}" --build "${work}/build")
	consumer_expect_program("${ok_version} core: ok" "${work}/build/app_core")
	consumer_expect_program("${ok_version} sim: ok" "${work}/build/app_sim")

elseif(CASE STREQUAL "pkg_config")
	consumer_need(pkg-config "${PKG_CONFIG}")
	consumer_project("${work}")
	file(GLOB_RECURSE pc_file "${prefix}/*/pkgconfig/kheap.pc")
	if(NOT pc_file)
		message(FATAL_ERROR "consumer ${CASE}: no kheap.pc under ${prefix}")
	endif()
	get_filename_component(pc_dir "${pc_file}" DIRECTORY)
	set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
	foreach(program core sim)
		set(package kheap)
		if(program STREQUAL "sim")
			set(package kheap-sim)
		endif()
		consumer_run("pkg-config ${package}" "${PKG_CONFIG}"
			--cflags --libs "${package}")
		string(STRIP "${consumer_output}" flags)
		separate_arguments(flags UNIX_COMMAND "${flags}")
		consumer_run("compile and link" "${C_COMPILER}" -std=c11 -Wall
			-Wextra -Werror -o "${work}/app_${program}"
			"${work}/src/app_${program}.c" ${flags})
		consumer_expect_program("${ok_version} ${program}: ok" "${work}/app_${program}")
	endforeach()

elseif(CASE STREQUAL "cxx")
	consumer_need("C++ compiler" "${CXX_COMPILER}")
	consumer_project("${work}" cxx)
	consumer_run("configure" "${CMAKE_COMMAND}" -S "${work}"
		-B "${work}/build" -G "${GENERATOR}"
		"-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
		"-DCMAKE_PREFIX_PATH=${prefix}")
	consumer_run("build" "${CMAKE_COMMAND}" --build "${work}/build")
	consumer_expect_program("${ok_version} c\\+\\+: ok" "${work}/build/app_cxx")

elseif(CASE STREQUAL "cortex_m")
	consumer_need(arm-none-eabi-gcc "${ARM_GCC}")
	consumer_need(arm-none-eabi-nm "${ARM_NM}")
	consumer_need(arm-none-eabi-readelf "${ARM_READELF}")
	consumer_project("${work}" cortex_m)
	consumer_run("configure" "${CMAKE_COMMAND}" -S "${work}"
		-B "${work}/build" -G "${GENERATOR}"
		"-DCMAKE_TOOLCHAIN_FILE=${work}/toolchain.cmake"
		"-DCONSUMER_ARM_GCC=${ARM_GCC}" "-DCONSUMER_CPU_FLAGS=${CPU_FLAGS}"
		-DCMAKE_BUILD_TYPE=MinSizeRel
		"-DKHEAP_SOURCE_DIR=${KHEAP_SOURCE_DIR}")
	consumer_run("build" "${CMAKE_COMMAND}" --build "${work}/build")
	consumer_check_firmware("${work}/build/firmware.elf"
		"${work}/build/kheap/libkheap_core.a"
		"${work}/build/kheap/libkheap_kernel.a"
		"${work}/build/kheap/target/libkheap_cortex_m.a")

elseif(CASE STREQUAL "cortex_m_package")
	consumer_need(arm-none-eabi-gcc "${ARM_GCC}")
	consumer_need(arm-none-eabi-nm "${ARM_NM}")
	consumer_need(arm-none-eabi-readelf "${ARM_READELF}")
	consumer_project("${work}" cortex_m_package)
	file(COPY "${templates}/cortex_m/toolchain.cmake" DESTINATION "${work}")
	consumer_run("configure" "${CMAKE_COMMAND}" -S "${work}"
		-B "${work}/build" -G "${GENERATOR}"
		"-DCMAKE_TOOLCHAIN_FILE=${work}/toolchain.cmake"
		"-DCONSUMER_ARM_GCC=${ARM_GCC}" "-DCONSUMER_CPU_FLAGS=${CPU_FLAGS}"
		-DCMAKE_BUILD_TYPE=MinSizeRel "-DCMAKE_PREFIX_PATH=${prefix}")
	consumer_run("build" "${CMAKE_COMMAND}" --build "${work}/build")
	file(GLOB_RECURSE libraries "${prefix}/*/libkheap_*.a")
	consumer_check_firmware("${work}/build/firmware.elf" ${libraries})

else()
	message(FATAL_ERROR "consumer: unknown CASE '${CASE}'")
endif()
message(STATUS "consumer ${CASE}: passed")
