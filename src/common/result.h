// Kept so internal code can include the result type by its old path.
#pragma once
#include "pocket/result.h"
