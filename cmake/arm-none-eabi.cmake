# SPDX-License-Identifier: Apache-2.0
# Toolchain file for bare-metal ARM Cortex-M with the GNU Arm Embedded
# toolchain (Debian: gcc-arm-none-eabi, binutils-arm-none-eabi,
# libnewlib-arm-none-eabi).
#
# The CPU is chosen by the cache variable KHEAP_ARM_CPU_FLAGS, which each
# cortex-m* preset sets, e.g. "-mcpu=cortex-m0 -mthumb" or
# "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16". A new CPU
# needs only a new preset.
#
# KHEAP_CROSS_PREFIX (default "arm-none-eabi-") selects another toolchain
# triple or an absolute path prefix.
#
# This file only sets the compiler and CPU. What a program needs to link
# and run (start-up code, the board's linker script, newlib through
# semihosting) comes from target/CMakeLists.txt, per board
# (KHEAP_TARGET_BOARD, chosen from the CPU when empty).

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)

if(NOT DEFINED KHEAP_CROSS_PREFIX)
	set(KHEAP_CROSS_PREFIX "arm-none-eabi-")
endif()
if(NOT DEFINED KHEAP_ARM_CPU_FLAGS OR KHEAP_ARM_CPU_FLAGS STREQUAL "")
	set(KHEAP_ARM_CPU_FLAGS "-mcpu=cortex-m3 -mthumb")
endif()

# try_compile() projects re-read this file: hand them the same settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES
	KHEAP_ARM_CPU_FLAGS KHEAP_CROSS_PREFIX)

set(CMAKE_C_COMPILER "${KHEAP_CROSS_PREFIX}gcc")
set(CMAKE_ASM_COMPILER "${KHEAP_CROSS_PREFIX}gcc")

# Without a linker script and startup code no executable links, so the
# compiler checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# The core is freestanding; sections per function and object let the final
# link (target/) drop what is unused.
set(_kheap_arm_flags
	"${KHEAP_ARM_CPU_FLAGS} -ffreestanding -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${_kheap_arm_flags}")
set(CMAKE_ASM_FLAGS_INIT "${KHEAP_ARM_CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections")

# Programs (size, objcopy, QEMU) come from the host; headers and libraries
# only from the cross toolchain.
if(EXISTS /usr/lib/arm-none-eabi
		AND NOT "/usr/lib/arm-none-eabi" IN_LIST CMAKE_FIND_ROOT_PATH)
	list(APPEND CMAKE_FIND_ROOT_PATH /usr/lib/arm-none-eabi)
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
