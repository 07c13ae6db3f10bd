# Turns a text file into a C array, for files the compiler carries inside
# itself (codegen/cuda_prelude.cuh).  Run at build time:
#   cmake -DIN=FILE -DOUT=FILE.c -DNAME=SYMBOL -P cmake/embed.cmake
# writes `const char SYMBOL[] = {...bytes..., 0};` (NUL-terminated), so the
# file stays an ordinary file to read and edit, and no tool beyond CMake
# (xxd, ld -b binary, C23 #embed) is needed.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" bytes "${bytes}")
get_filename_component(name "${IN}" NAME)
file(WRITE "${OUT}.tmp" "/* ${name}, embedded by cmake/embed.cmake: generated, do not edit */\n"
                        "const char ${NAME}[] = {\n${bytes}0x00};\n")
# Only a changed text touches the output (no rebuild of what depends on it otherwise).
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
