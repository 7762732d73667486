// Transparent huge pages for large, freshly allocated buffers. Filling a
// buffer of tens of megabytes in 4 KiB pages costs a page fault per page,
// which on virtual machines dominates reading a battle file; where the kernel
// backs the range with 2 MiB pages it takes one fault per 2 MiB instead, and
// fewer TLB misses afterwards.
#pragma once

#include <cstddef>

namespace huashan {

// Asks the kernel to back the whole pages inside [data, data + bytes) with
// huge pages when they are first touched (Linux madvise MADV_HUGEPAGE; a
// no-op elsewhere, for ranges under 2 MiB, and when the kernel says no). Call
// it before writing the buffer. Never throws.
void advise_huge_pages(const void* data, std::size_t bytes) noexcept;

// The same for a vector's or string's reserved capacity.
template <typename Container>
void advise_huge_pages_for(const Container& c) noexcept {
  advise_huge_pages(c.data(), c.capacity() * sizeof(typename Container::value_type));
}

}  // namespace huashan
