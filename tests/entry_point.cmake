# husk-runtime's ELF entry point is husk_runtime_entry (src/cli/runtime/entry.c: the seal
# before the C library starts), on the architectures it is linked so (x86_64, aarch64);
# main() seals only as a fallback, so nothing else would show that the link lost it.
#   cmake -DNM=nm -DREADELF=readelf -DBIN=husk-runtime -DARCH=x86_64 -P entry_point.cmake
cmake_minimum_required(VERSION 3.25)
if(NOT ARCH MATCHES "^(x86_64|aarch64)$")
  message(STATUS "SKIP: ${ARCH}: husk-runtime keeps the C library's entry point there")
  return()
endif()
# The output of a tool's run on BIN, into `var`; fails the test when it fails.
function(output_of var)
  execute_process(COMMAND ${ARGN} ${BIN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${ARGN} ${BIN}: ${err}")
  endif()
  set(${var} "${out}" PARENT_SCOPE)
endfunction()

output_of(out ${READELF} -h)
if(NOT out MATCHES "Entry point address: +0x([0-9a-fA-F]+)")
  message(FATAL_ERROR "readelf -h ${BIN}: no entry point address in:\n${out}")
endif()
set(entry "${CMAKE_MATCH_1}")
output_of(out ${NM})
if(NOT out MATCHES "(^|\n)([0-9a-fA-F]+) [Tt] husk_runtime_entry\n")
  message(FATAL_ERROR "nm ${BIN}: no husk_runtime_entry symbol")
endif()
set(symbol "${CMAKE_MATCH_2}")
math(EXPR entry "0x${entry}" OUTPUT_FORMAT HEXADECIMAL)
math(EXPR symbol "0x${symbol}" OUTPUT_FORMAT HEXADECIMAL)
if(NOT entry STREQUAL symbol)
  message(FATAL_ERROR "${BIN}: the ELF entry point is ${entry}, husk_runtime_entry is at ${symbol}: the seal before the C library does not run")
endif()
message(STATUS "${BIN}: the ELF entry point is husk_runtime_entry (${entry})")
