# husk-runtime's ELF entry point (src/cli/runtime/entry.c) runs before the C library is
# initialised (no relocation, no TLS): its object may call no C library function, nor
# anything the compiler adds for it (memcpy, memset, __stack_chk_fail...). Its undefined
# symbols are those of ALLOWED only: _start (the C library's own entry, jumped to once the
# seal is done) and the GOT symbol some assemblers name.
#   cmake -DNM=nm -DOBJECTS="a.o;b.o" -P entry_symbols.cmake
cmake_minimum_required(VERSION 3.25)
set(ALLOWED _start _GLOBAL_OFFSET_TABLE_)
if(NOT OBJECTS)
  message(FATAL_ERROR "entry_symbols.cmake: no object given (-DOBJECTS=...)")
endif()
foreach(obj IN LISTS OBJECTS)
  execute_process(COMMAND ${NM} -u ${obj} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm -u ${obj}: ${err}")
  endif()
  string(REGEX MATCHALL "U [^\n]+" undefined "${out}")
  set(bad)
  foreach(u IN LISTS undefined)
    string(REGEX REPLACE "^U " "" sym "${u}")
    if(NOT sym IN_LIST ALLOWED)
      list(APPEND bad ${sym})
    endif()
  endforeach()
  if(bad)
    list(JOIN bad ", " bad)
    message(FATAL_ERROR "${obj} calls what does not exist before the C library starts: ${bad}")
  endif()
  message(STATUS "${obj}: undefined symbols are only the allowed ones (${ALLOWED})")
endforeach()
