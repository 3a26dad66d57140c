// Highway target selection for the SIMD kernels. Include before any hwy header in src/kernels/simd.
//
// x86: AVX3_DL (AVX-512 with VNNI), AVX3 (AVX-512), AVX2, SSE4 (the portable 128-bit code path, the
// same code NEON builds) and SCALAR (calls the src/tensor references). SSSE3 adds nothing here.
// EMU128 would replace SCALAR but Highway disables it for GCC < 12.3.
#pragma once

#ifndef HWY_WANT_AVX3_DL
#define HWY_WANT_AVX3_DL 1
#endif
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS HWY_SSSE3
#endif
