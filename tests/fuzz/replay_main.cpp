// Stand-in for libFuzzer's main in ordinary (GCC, sanitizer) builds: runs every
// file of the given corpus folders through LLVMFuzzerTestOneInput, then
// `--mutations N` inputs derived from them by deterministic byte mutations
// (flip, insert, delete, truncate, splice), so `./dev test` exercises each
// fuzz target briefly without clang.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void run(const std::vector<std::uint8_t>& input) {
  // Copy into an exactly-sized heap buffer so ASan catches reads past the end.
  auto* buffer = static_cast<std::uint8_t*>(std::malloc(input.size() + 1));
  if (!input.empty()) std::memcpy(buffer, input.data(), input.size());
  LLVMFuzzerTestOneInput(buffer, input.size());
  std::free(buffer);
}

std::vector<std::uint8_t> mutate(std::vector<std::uint8_t> input, const std::vector<std::vector<std::uint8_t>>& pool,
                                 std::mt19937_64& rng) {
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int s = 0; s < steps; ++s) {
    const auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
    switch (rng() % 6) {
      case 0:
        if (!input.empty()) input[pick(input.size())] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        if (!input.empty()) input[pick(input.size())] = static_cast<std::uint8_t>(rng());
        break;
      case 2: input.insert(input.begin() + static_cast<std::ptrdiff_t>(pick(input.size() + 1)), static_cast<std::uint8_t>(rng())); break;
      case 3:
        if (!input.empty()) input.erase(input.begin() + static_cast<std::ptrdiff_t>(pick(input.size())));
        break;
      case 4: input.resize(pick(input.size() + 1)); break;
      case 5: {
        const auto& other = pool[pick(pool.size())];
        if (other.empty()) break;
        const std::size_t from = pick(other.size());
        const std::size_t len = 1 + pick(std::min<std::size_t>(64, other.size() - from));
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(pick(input.size() + 1)), other.begin() + static_cast<std::ptrdiff_t>(from),
                     other.begin() + static_cast<std::ptrdiff_t>(from + len));
        break;
      }
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 0;
  std::vector<std::vector<std::uint8_t>> seeds;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mutations" && i + 1 < argc) {
      mutations = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    const std::filesystem::path path(arg);
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path))
        if (entry.is_regular_file()) seeds.push_back(read_file(entry.path()));
    } else if (std::filesystem::is_regular_file(path)) {
      seeds.push_back(read_file(path));
    } else {
      std::fprintf(stderr, "no such corpus file or folder: %s\n", arg.c_str());
      return 2;
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "empty corpus: give seed files or folders\n");
    return 2;
  }
  for (const auto& seed : seeds) run(seed);
  std::mt19937_64 rng(20261129);
  for (long i = 0; i < mutations; ++i) run(mutate(seeds[static_cast<std::size_t>(i) % seeds.size()], seeds, rng));
  std::printf("replayed %zu seeds and %ld mutations: no crash\n", seeds.size(), mutations);
  return 0;
}
