# SPDX-License-Identifier: Apache-2.0
# The consumer's own toolchain file (not kheap's): GNU Arm Embedded for
# the CPU in CONSUMER_CPU_FLAGS, e.g. "-mcpu=cortex-m7 -mthumb
# -mfloat-abi=hard -mfpu=fpv5-d16", with CONSUMER_ARM_GCC the compiler.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES
	CONSUMER_ARM_GCC CONSUMER_CPU_FLAGS)
set(CMAKE_C_COMPILER "${CONSUMER_ARM_GCC}")
set(CMAKE_C_FLAGS_INIT "${CONSUMER_CPU_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
