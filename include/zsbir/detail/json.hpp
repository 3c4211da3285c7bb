// nlohmann/json (Debian: nlohmann-json3-dev), included with its warnings silenced so that the library
// stays clean under -Wall -Wextra -Wpedantic. Only the checkpoint header code uses it.
#pragma once

#pragma GCC system_header
#include <nlohmann/json.hpp>
