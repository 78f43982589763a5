# SPDX-License-Identifier: Apache-2.0
# cmake -DPROGRAM=<test_hardening_matrix_*> -DDOC=<docs/testing/hardening.md>
#       -P check_doc_table.cmake
#
# The text between the lines "<!-- hardening-matrix:begin -->" and
# "<!-- hardening-matrix:end -->" of DOC must be exactly what
# `PROGRAM --matrix` prints (the test's own table of expectations), so the
# documented matrix is the tested one. On a mismatch it prints both and
# the command that regenerates the block.
set(begin_marker "<!-- hardening-matrix:begin -->")
set(end_marker "<!-- hardening-matrix:end -->")

execute_process(COMMAND "${PROGRAM}" --matrix
	OUTPUT_VARIABLE generated
	RESULT_VARIABLE result)
if(NOT result EQUAL 0)
	message(FATAL_ERROR "${PROGRAM} --matrix failed: ${result}")
endif()

file(READ "${DOC}" doc)
string(FIND "${doc}" "${begin_marker}\n" begin_at)
string(FIND "${doc}" "${end_marker}" end_at)
if(begin_at EQUAL -1 OR end_at EQUAL -1 OR end_at LESS begin_at)
	message(FATAL_ERROR "${DOC}: no \"${begin_marker}\" ... "
		"\"${end_marker}\" block")
endif()
string(LENGTH "${begin_marker}\n" marker_length)
math(EXPR text_at "${begin_at} + ${marker_length}")
math(EXPR text_length "${end_at} - ${text_at}")
string(SUBSTRING "${doc}" ${text_at} ${text_length} documented)

if(NOT documented STREQUAL generated)
	message(FATAL_ERROR "${DOC}: the hardening matrix differs from the "
		"test's table.\n--- documented:\n${documented}\n"
		"--- tested (${PROGRAM} --matrix):\n${generated}\n"
		"Replace the block between the markers with the output of "
		"`${PROGRAM} --matrix`.")
endif()
message(STATUS "docs hardening matrix matches the tested table")
