# SPDX-License-Identifier: Apache-2.0
# CMocka for the host test programs, as the INTERFACE target kheap_cmocka.
# Included by every directory with CMocka tests; defines the target once.
# A missing CMocka is a configure error, not a silently smaller test run:
# scripts/setup installs Debian's libcmocka-dev.
if(TARGET kheap_cmocka)
	return()
endif()

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
	pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET GLOBAL cmocka)
endif()
add_library(kheap_cmocka INTERFACE)
if(TARGET PkgConfig::CMOCKA)
	target_link_libraries(kheap_cmocka INTERFACE PkgConfig::CMOCKA)
else()
	find_path(KHEAP_CMOCKA_INCLUDE_DIR cmocka.h)
	find_library(KHEAP_CMOCKA_LIBRARY cmocka)
	if(NOT KHEAP_CMOCKA_INCLUDE_DIR OR NOT KHEAP_CMOCKA_LIBRARY)
		message(FATAL_ERROR "kheap: CMocka not found; run "
			"./scripts/setup (Debian: libcmocka-dev)")
	endif()
	target_include_directories(kheap_cmocka INTERFACE
		"${KHEAP_CMOCKA_INCLUDE_DIR}")
	target_link_libraries(kheap_cmocka INTERFACE "${KHEAP_CMOCKA_LIBRARY}")
endif()
