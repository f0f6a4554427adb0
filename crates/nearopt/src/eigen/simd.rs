//! CPU feature dispatch for the eigensolver's hand-written kernels.
//!
//! faer's matrix products run AVX-512 kernels and return with the upper halves of the vector
//! registers dirty. Code compiled for the x86-64 baseline (legacy SSE encoding) then runs up to
//! 2.5× slower on this project's machines until something clears that state (measured: the
//! bulge chase after a band reduction took 2.6 s instead of 1.0 s at n = 7000). The kernels are
//! therefore compiled a second time with AVX2 + FMA enabled (VEX encoding, no penalty, wider
//! vectors), and the baseline versions clear the upper state before they start.

/// Whether the CPU has AVX2 and FMA (cached by the standard library).
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

/// Clears the upper halves of the vector registers (`vzeroupper`) if the CPU has AVX at all.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn clear_upper_state() {
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, which is all `vzeroupper` needs.
        unsafe { std::arch::x86_64::_mm256_zeroupper() };
    }
}
