// The facts a model fingerprint is made of: SHA-256 digests (hex) of bytes
// and of files, and a GGUF file's tensor types counted.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "harness/engine/gguf.hpp"

namespace huashan::harness {

std::string sha256_hex(std::span<const std::byte> bytes);
std::string sha256_hex(std::string_view text);
// Reads the file in pieces (a model of many GiB is never held in memory);
// io_error naming the file when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);
// "F32:12,Q8_0:84": each tensor type of the file (upper case, ordered by
// name) and how many tensors have it.
std::string tensor_type_counts(const engine::gguf_file& file);
// The project's version, as CMake's PROJECT_VERSION says.
std::string engine_version();

}  // namespace huashan::harness
