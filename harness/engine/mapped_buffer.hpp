// Large zero-filled buffers taken straight from the kernel, on 2 MiB huge
// pages where the system allows them.
#pragma once

#include <cstddef>

namespace huashan::engine {

// For the packed weights, streamed once per token, and the KV cache, whose
// rows a batch's decoding step reads from memory for every sequence: with
// 4 KiB pages every 64 cache lines cost a TLB miss (under a hypervisor, a
// two-level page walk) and the hardware prefetchers stop at each page's end.
// This buffer is 2 MiB aligned and, on Linux, asks for transparent huge pages
// (madvise), which the default "madvise" mode of
// /sys/kernel/mm/transparent_hugepage/enabled grants; elsewhere, or where
// refused, it is ordinary memory. Pages are mapped when first touched.
class mapped_buffer {
 public:
  mapped_buffer() = default;
  explicit mapped_buffer(std::size_t bytes);  // throws std::bad_alloc
  ~mapped_buffer();
  mapped_buffer(mapped_buffer&& other) noexcept;
  mapped_buffer& operator=(mapped_buffer&& other) noexcept;
  mapped_buffer(const mapped_buffer&) = delete;
  mapped_buffer& operator=(const mapped_buffer&) = delete;

  std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release() noexcept;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  // bytes mapped at data_ (size_ rounded up)
};

}  // namespace huashan::engine
