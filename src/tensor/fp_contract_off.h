// Include FIRST (before any other header) in every scalar reference codec file: matching ggml bit for
// bit needs every a*b+c rounded twice, never fused into an FMA, even when the build targets an ISA with
// FMA (-march=native); see quants_impl.h. The pragma holds from here to the end of the including file,
// so it also covers the inline helpers of the headers included after it. CMakeLists.txt adds
// -ffp-contract=off for src/tensor/*.cpp as well; this keeps the guarantee with other build systems.
// Never include it from a kernel or any header meant for general use.
#pragma once

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
