// HUASHAN_VECTOR_CLONES marks a hot loop to be compiled for AVX2 and AVX-512
// beside the baseline, the copy chosen at load time (GCC's target_clones on
// x86-64; nothing elsewhere, and not under the sanitizers). Every copy
// computes the same numbers: the project builds in ISO C++ mode, where GCC
// does not fuse multiplies and adds, and vector division, gathers and
// compares round exactly as scalar ones do. Loops that sum floating-point
// numbers must not rely on the vectoriser to reorder them (it does not).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define HUASHAN_VECTOR_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define HUASHAN_VECTOR_CLONES
#endif
