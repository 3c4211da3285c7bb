# cmake -DIN=<file.md> -DOUT=<file.hpp> [-DSTAMP=<file>] -P ExtractCppBlocks.cmake
# Writes every ```cpp fenced block of IN to OUT, in order, each preceded by a #line directive so
# compiler errors point at the Markdown. Fences must start at the beginning of a line (not indented).
# Scans with string(FIND) rather than list operations, because C++ is full of ';' and '['.
cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED IN OR NOT DEFINED OUT)
  message(FATAL_ERROR "usage: cmake -DIN=<file.md> -DOUT=<file.hpp> -P ExtractCppBlocks.cmake")
endif()
if(NOT EXISTS "${IN}")
  message(FATAL_ERROR "ExtractCppBlocks: ${IN} does not exist")
endif()

file(READ "${IN}" _text)
string(REPLACE "\r\n" "\n" _text "${_text}")
set(_text "\n${_text}")          # so a fence on the first line also follows a newline
if(NOT _text MATCHES "\n$")
  string(APPEND _text "\n")
endif()

set(_out "// Generated from ${IN} by cmake/ExtractCppBlocks.cmake: edit the Markdown, not this file.\n")
string(APPEND _out "#pragma once\n")
set(_blocks 0)
set(_line 1)                     # Markdown line number of the current scan position (_text[0] is ours)
while(TRUE)
  string(FIND "${_text}" "\n```" _open)
  if(_open EQUAL -1)
    break()
  endif()
  # Count lines up to the opening fence, then read its info string.
  string(SUBSTRING "${_text}" 0 ${_open} _before)
  string(REGEX MATCHALL "\n" _nl "${_before}")
  list(LENGTH _nl _n)
  math(EXPR _fence_line "${_line} + ${_n}")
  math(EXPR _info_start "${_open} + 4")
  string(SUBSTRING "${_text}" ${_info_start} -1 _rest)
  string(FIND "${_rest}" "\n" _eol)
  string(SUBSTRING "${_rest}" 0 ${_eol} _info)
  string(STRIP "${_info}" _info)
  string(SUBSTRING "${_rest}" ${_eol} -1 _rest)     # starts with the newline that ends the fence line
  # The block ends at the next fence line.
  string(FIND "${_rest}" "\n```" _close)
  if(_close EQUAL -1)
    message(FATAL_ERROR "${IN}:${_fence_line}: fenced block is never closed")
  endif()
  string(SUBSTRING "${_rest}" 1 ${_close} _body)    # body lines, each ending in a newline
  string(REGEX MATCHALL "\n" _nl "${_body}")
  list(LENGTH _nl _body_lines)
  if(_info MATCHES "^(cpp|c\\+\\+)([ \t{].*)?$")
    math(EXPR _first "${_fence_line} + 1")
    string(APPEND _out "\n#line ${_first} \"${IN}\"\n${_body}")
    math(EXPR _blocks "${_blocks} + 1")
  endif()
  # Continue after the closing fence line; its text becomes _text[0] of the next round.
  math(EXPR _after "${_close} + 1")
  string(SUBSTRING "${_rest}" ${_after} -1 _tail)
  string(FIND "${_tail}" "\n" _eol)
  if(_eol EQUAL -1)
    break()
  endif()
  string(SUBSTRING "${_tail}" ${_eol} -1 _text)
  math(EXPR _line "${_fence_line} + ${_body_lines} + 2")   # the line after the closing fence
endwhile()

if(_blocks EQUAL 0)
  message(WARNING "ExtractCppBlocks: ${IN} has no ```cpp blocks; ${OUT} is empty")
endif()
# Write only on change, so an edit to the prose does not rebuild the tests.
set(_old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" _old)
endif()
if(NOT _old STREQUAL _out)
  file(WRITE "${OUT}" "${_out}")
endif()
if(DEFINED STAMP)
  file(TOUCH "${STAMP}")
endif()
