# husk-runtime's ELF entry point (src/cli/runtime/entry.c) runs before the C library is
# initialised (no relocation, no TLS): its object may call no C library function, nor
# anything the compiler adds for it (memcpy, memset, __stack_chk_fail...). Its undefined
# symbols are those of ALLOWED only: _start (the C library's own entry, jumped to once the
# seal is done). Nor may it need the dynamic loader (not run yet for a static-pie, whose
# own relocations are not applied either): outside the debug sections its relocations are
# PC-relative ones only, which the static link resolves.
#   cmake -DNM=nm -DREADELF=readelf -DOBJECTS="a.o;b.o" -P entry_symbols.cmake
cmake_minimum_required(VERSION 3.25)
set(ALLOWED _start)
set(PC_RELATIVE
  R_X86_64_PC32 R_X86_64_PLT32
  R_AARCH64_ADR_PREL_PG_HI21 R_AARCH64_ADD_ABS_LO12_NC R_AARCH64_CALL26 R_AARCH64_JUMP26
  R_AARCH64_PREL32 R_AARCH64_LDST8_ABS_LO12_NC R_AARCH64_LDST16_ABS_LO12_NC
  R_AARCH64_LDST32_ABS_LO12_NC R_AARCH64_LDST64_ABS_LO12_NC R_AARCH64_LDST128_ABS_LO12_NC)
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

  execute_process(COMMAND ${READELF} -rW ${obj} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "readelf -rW ${obj}: ${err}")
  endif()
  string(REPLACE ";" "," out "${out}")
  string(REPLACE "\n" ";" lines "${out}")
  set(section)
  set(bad)
  set(count 0)
  foreach(line IN LISTS lines)
    if(line MATCHES "^Relocation section '([^']+)'")
      set(section "${CMAKE_MATCH_1}")
    elseif(line MATCHES "^[0-9a-f]+ +[0-9a-f]+ +(R_[A-Z0-9_]+)")
      set(type "${CMAKE_MATCH_1}")
      if(NOT section MATCHES "^\\.rela?\\.debug")
        math(EXPR count "${count} + 1")
        if(NOT type IN_LIST PC_RELATIVE)
          list(APPEND bad "${type} in ${section}")
        endif()
      endif()
    endif()
  endforeach()
  if(bad)
    list(JOIN bad ", " bad)
    message(FATAL_ERROR "${obj} has relocations that are not PC-relative: ${bad}")
  endif()
  if(count EQUAL 0)
    message(FATAL_ERROR "${obj}: readelf -rW listed no relocation (its output changed?)")
  endif()
  message(STATUS "${obj}: its ${count} relocations are PC-relative")
endforeach()
