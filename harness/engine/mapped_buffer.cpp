#include "harness/engine/mapped_buffer.hpp"

#include "harness/engine/align.hpp"

#include <new>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>

#include <cstdint>
#else
#include <algorithm>
#endif

namespace huashan::engine {

namespace {
constexpr std::size_t huge_page = std::size_t{2} << 20;
}

#if defined(__linux__)
mapped_buffer::mapped_buffer(std::size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  mapped_ = align_up(bytes, huge_page);
  // Map one huge page more, then trim to a 2 MiB aligned start: mmap only
  // promises 4 KiB alignment, and a huge page needs an aligned 2 MiB range.
  const std::size_t span = mapped_ + huge_page;
  void* p = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t aligned = align_up(start, huge_page);
  if (aligned > start) ::munmap(p, aligned - start);
  const std::size_t tail = start + span - (aligned + mapped_);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + mapped_), tail);
  data_ = reinterpret_cast<std::byte*>(aligned);
  // Advice only: where transparent huge pages are off, this is ordinary memory.
  ::madvise(data_, mapped_, MADV_HUGEPAGE);
}

void mapped_buffer::release() noexcept {
  if (data_ != nullptr) ::munmap(data_, mapped_);
  data_ = nullptr;
}
#else
mapped_buffer::mapped_buffer(std::size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  mapped_ = bytes;
  data_ = static_cast<std::byte*>(::operator new(bytes, std::align_val_t{huge_page}));
  std::fill(data_, data_ + bytes, std::byte{0});
}

void mapped_buffer::release() noexcept {
  if (data_ != nullptr) ::operator delete(data_, std::align_val_t{huge_page});
  data_ = nullptr;
}
#endif

mapped_buffer::~mapped_buffer() { release(); }

mapped_buffer::mapped_buffer(mapped_buffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

mapped_buffer& mapped_buffer::operator=(mapped_buffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

}  // namespace huashan::engine
