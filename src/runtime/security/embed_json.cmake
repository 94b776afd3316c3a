# cmake -DINPUT=<file.json> -DOUTPUT=<file.cpp> -DSYMBOL=<name> -P embed_json.cmake
# Writes a C++ source holding the file's text as one raw string literal.
file(READ "${INPUT}" text)
string(FIND "${text}" ")husk_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter")
endif()
set(content "// Generated from ${INPUT}; do not edit.\nnamespace husk::runtime::security {\nextern const char ${SYMBOL}[];\nconst char ${SYMBOL}[] = R\"husk_embed(${text})husk_embed\";\n}  // namespace husk::runtime::security\n")
file(WRITE "${OUTPUT}.tmp" "${content}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
