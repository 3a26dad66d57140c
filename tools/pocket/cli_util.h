// Small helpers shared by the CLI sub-commands.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pocket/result.h"

namespace pocket::cli {

// Parses "2,105,2364" (spaces allowed) into token ids. Errors name the bad entry.
Result<std::vector<int32_t>> parse_token_list(const std::string& text);

// Prints "pocket: error: <message>" to stderr and returns the exit code 1.
int report_error(const std::string& message);

}  // namespace pocket::cli
