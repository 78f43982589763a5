# SPDX-License-Identifier: Apache-2.0
# cmake -DSAME_A=<variant> -DSAME_B=<variant> -DOTHER=<variant> -P ...
# The first two must be one variant, the third another.
if(NOT SAME_A STREQUAL SAME_B)
	message(FATAL_ERROR "the same memory options gave two variants: "
		"${SAME_A} and ${SAME_B}")
endif()
if(SAME_A STREQUAL OTHER)
	message(FATAL_ERROR "different options gave one variant: ${OTHER}")
endif()
if(NOT SAME_A MATCHES "^kheap_sim_cfg_[0-9a-f]+$")
	message(FATAL_ERROR "not a configured variant: ${SAME_A}")
endif()
message(STATUS "${SAME_A} shared; ${OTHER} apart")
