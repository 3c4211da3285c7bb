// What a sanitizer build of one of our test programs defaults to, with no environment variables set:
// UndefinedBehaviorSanitizer stops at its first finding (as -fno-sanitize-recover would) but honours
// the suppressions of tests/ubsan.supp, and prints each finding's stack. Include it in exactly one
// file of a program; in a build without sanitizers the function is never called.
#pragma once

extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1:suppressions=" ZSBIR_SOURCE_DIR "/tests/ubsan.supp";
}
