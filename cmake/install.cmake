# SPDX-License-Identifier: Apache-2.0
# Install rules and package files (KHEAP_INSTALL; included last by the
# top-level CMakeLists.txt, once every library is defined).
#
#   include/kheap, include/zephyr    the public headers of the core and
#                                    the kernel layer, kheap/version.h,
#                                    kheap/target.h (cross builds)
#   include/kheap-sim                the simulator's headers (host builds:
#                                    <zephyr/kernel.h> and friends, kept
#                                    apart so that kheap.pc users of the
#                                    heap alone never see them)
#   lib/libkheap_core.a, libkheap_kernel.a, libkheap_sim.a (host),
#       libkheap_cortex_m.a (cross), libkheap_san.a (KHEAP_SANITIZER)
#   lib/cmake/kheap                  kheapConfig.cmake,
#                                    kheapConfigVersion.cmake
#                                    (SameMajorVersion), kheapTargets*.cmake
#   lib/pkgconfig/kheap.pc           the heap (kheap::core)
#   lib/pkgconfig/kheap-sim.pc       the simulator (host builds)
#   bin/kheap, share/man/man1/kheap.1  the trace tool (KHEAP_BUILD_TOOLS)
#   share/doc/kheap                  LICENSE, NOTICE, README.md, CHANGELOG.md
include(CMakePackageConfigHelpers)

set(KHEAP_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/kheap" CACHE STRING
	"Where kheapConfig.cmake is installed (relative to the prefix)")
mark_as_advanced(KHEAP_INSTALL_CMAKEDIR)

# --- headers -------------------------------------------------------------------
install(DIRECTORY "${PROJECT_SOURCE_DIR}/core/include/"
	DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
	FILES_MATCHING PATTERN "*.h")
install(FILES "${PROJECT_BINARY_DIR}/include/kheap/version.h"
	DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/kheap")

# --- libraries and their CMake package -------------------------------------------
set(_kheap_export_targets kheap_core kheap_kernel)
if(TARGET kheap_san)
	set_target_properties(kheap_san PROPERTIES EXPORT_NAME san)
	list(APPEND _kheap_export_targets kheap_san)
endif()
if(TARGET kheap_sim)
	list(APPEND _kheap_export_targets kheap_sim)
	install(DIRECTORY "${PROJECT_SOURCE_DIR}/sim/include/"
		DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/kheap-sim"
		FILES_MATCHING PATTERN "*.h")
endif()
if(TARGET kheap_cortex_m)
	list(APPEND _kheap_export_targets kheap_cortex_m)
	install(DIRECTORY "${PROJECT_SOURCE_DIR}/target/include/"
		DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
		FILES_MATCHING PATTERN "*.h")
endif()
install(TARGETS ${_kheap_export_targets}
	EXPORT kheapTargets
	ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
	LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
	RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(EXPORT kheapTargets
	NAMESPACE kheap::
	DESTINATION "${KHEAP_INSTALL_CMAKEDIR}")

# kheapConfig.cmake: the targets, and Threads for the simulator (and the
# memory-checker hooks), found the way the consumer's project finds it.
set(KHEAP_CONFIG_NEEDS_THREADS OFF)
if(TARGET kheap_sim OR TARGET kheap_san)
	set(KHEAP_CONFIG_NEEDS_THREADS ON)
endif()
configure_package_config_file(
	"${PROJECT_SOURCE_DIR}/cmake/kheapConfig.cmake.in"
	"${PROJECT_BINARY_DIR}/package/kheapConfig.cmake"
	INSTALL_DESTINATION "${KHEAP_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
	"${PROJECT_BINARY_DIR}/package/kheapConfigVersion.cmake"
	VERSION "${PROJECT_VERSION}"
	COMPATIBILITY SameMajorVersion)
install(FILES
	"${PROJECT_BINARY_DIR}/package/kheapConfig.cmake"
	"${PROJECT_BINARY_DIR}/package/kheapConfigVersion.cmake"
	DESTINATION "${KHEAP_INSTALL_CMAKEDIR}")

# --- pkg-config ------------------------------------------------------------------
# Relocatable: the prefix is found from the .pc file's own place, so
# `cmake --install <dir> --prefix <elsewhere>` gives working files.
set(_kheap_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
file(RELATIVE_PATH KHEAP_PC_PREFIX_FROM_PCFILEDIR
	"/kheap-prefix/${_kheap_pc_dir}" "/kheap-prefix")
string(REGEX REPLACE "/$" "" KHEAP_PC_PREFIX_FROM_PCFILEDIR
	"${KHEAP_PC_PREFIX_FROM_PCFILEDIR}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
	set(KHEAP_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
	set(KHEAP_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
	set(KHEAP_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
	set(KHEAP_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
# The core's configuration (asserts, hardening level, memory-checker
# hooks) as -D flags: what kheap::core's usage requirements say.
set(_kheap_core_defs
	"$<TARGET_PROPERTY:kheap_core,INTERFACE_COMPILE_DEFINITIONS>")
set(KHEAP_PC_CORE_CFLAGS
	"$<$<BOOL:${_kheap_core_defs}>: -D$<JOIN:${_kheap_core_defs}, -D>>")
set(KHEAP_PC_CORE_LIBS "")
if(TARGET kheap_san)
	set(KHEAP_PC_CORE_LIBS " -lkheap_san -pthread")
endif()
# kheap_sim's archive holds the simulator and the kernel layer; the
# core (Requires: kheap) follows it on the link line.
set(KHEAP_PC_SIM_LIBS " -pthread")
foreach(_kheap_lib IN LISTS CMAKE_DL_LIBS)
	string(APPEND KHEAP_PC_SIM_LIBS " -l${_kheap_lib}")
endforeach()

set(_kheap_pc_files kheap)
if(TARGET kheap_sim)
	list(APPEND _kheap_pc_files kheap-sim)
endif()
foreach(_kheap_pc IN LISTS _kheap_pc_files)
	configure_file("${PROJECT_SOURCE_DIR}/cmake/${_kheap_pc}.pc.in"
		"${PROJECT_BINARY_DIR}/package/${_kheap_pc}.pc.gen" @ONLY)
	file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/package/${_kheap_pc}.pc"
		INPUT "${PROJECT_BINARY_DIR}/package/${_kheap_pc}.pc.gen")
	install(FILES "${PROJECT_BINARY_DIR}/package/${_kheap_pc}.pc"
		DESTINATION "${_kheap_pc_dir}")
endforeach()

# --- the tool, its man page, the licence ------------------------------------------
if(TARGET kheap)
	install(TARGETS kheap RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
	install(FILES "${KHEAP_MAN_PAGE}"
		DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
endif()
install(FILES
	"${PROJECT_SOURCE_DIR}/LICENSE"
	"${PROJECT_SOURCE_DIR}/NOTICE"
	"${PROJECT_SOURCE_DIR}/README.md"
	"${PROJECT_SOURCE_DIR}/CHANGELOG.md"
	DESTINATION "${CMAKE_INSTALL_DOCDIR}")
