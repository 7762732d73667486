// Paged KV cache: block arena, block tables, reference counts and the prefix table.
#include "harness/engine/kv_cache.hpp"

#include <algorithm>
#include <cassert>

#include <fmt/format.h>

#include "common/error.hpp"
#include "harness/engine/cpu_features.hpp"
#include "harness/engine/kv_half.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define HUASHAN_KV_X86 1
#endif

namespace huashan::engine {

namespace kv {
namespace {

void floats_to_halves_scalar(const float* src, std::uint16_t* dst, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) dst[i] = float_to_half(src[i]);
}

#ifdef HUASHAN_KV_X86
__attribute__((target("avx,f16c"))) void floats_to_halves_f16c(const float* src, std::uint16_t* dst, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  }
  floats_to_halves_scalar(src + i, dst + i, n - i);
}
#endif

}  // namespace

void floats_to_halves(const float* src, std::uint16_t* dst, std::int64_t n) {
#ifdef HUASHAN_KV_X86
  static const bool f16c = [] {
    const auto& f = detect_cpu_features();
    return f.avx && f.f16c;
  }();
  if (f16c) {
    floats_to_halves_f16c(src, dst, n);
    return;
  }
#endif
  floats_to_halves_scalar(src, dst, n);
}

}  // namespace kv

kv_cache::kv_cache(const kv_cache_shape& shape, const kv_cache_config& config) : shape_(shape), config_(config) {
  if (config_.block_tokens <= 0) {
    throw input_error(fmt::format("kv cache: block_tokens must be positive, got {}", config_.block_tokens));
  }
  const std::size_t elem = element_bytes();
  k_layer_bytes_ = static_cast<std::size_t>(config_.block_tokens) * shape_.n_kv_heads * shape_.head_dim_k * elem;
  v_layer_bytes_ = static_cast<std::size_t>(config_.block_tokens) * shape_.n_kv_heads * shape_.head_dim_v * elem;
  block_bytes_ = (k_layer_bytes_ + v_layer_bytes_) * static_cast<std::size_t>(shape_.n_layers);
  if (block_bytes_ == 0 || config_.memory_budget_bytes / block_bytes_ < 1) {
    throw input_error(fmt::format("kv cache: a budget of {} bytes holds no block of {} bytes ({} tokens x {} layers)",
                                  config_.memory_budget_bytes, block_bytes_, config_.block_tokens, shape_.n_layers));
  }
  const std::size_t n = config_.memory_budget_bytes / block_bytes_;
  n_blocks_ = static_cast<std::int32_t>(std::min<std::size_t>(n, 1u << 30));
  arena_ = mapped_buffer(static_cast<std::size_t>(n_blocks_) * block_bytes_);
  blocks_.resize(static_cast<std::size_t>(n_blocks_));
  free_.reserve(static_cast<std::size_t>(n_blocks_));
  // Hand out low block ids first (pop_back): purely cosmetic, helps debugging.
  for (std::int32_t b = n_blocks_ - 1; b >= 0; --b) free_.push_back(b);
}

std::int32_t kv_cache::n_blocks_available() const {
  return static_cast<std::int32_t>(free_.size() + evictable_.size());
}

std::int32_t kv_cache::blocks_for(std::int64_t n_tokens) const {
  return static_cast<std::int32_t>((n_tokens + config_.block_tokens - 1) / config_.block_tokens);
}

std::int32_t kv_cache::add_sequence() {
  for (std::size_t i = 0; i < seqs_.size(); ++i) {
    if (!seqs_[i].live) {
      seqs_[i] = sequence_state{};
      seqs_[i].live = true;
      return static_cast<std::int32_t>(i);
    }
  }
  seqs_.push_back(sequence_state{});
  seqs_.back().live = true;
  return static_cast<std::int32_t>(seqs_.size() - 1);
}

void kv_cache::release_sequence(std::int32_t seq) {
  auto& s = seqs_.at(static_cast<std::size_t>(seq));
  assert(s.live);
  for (std::int32_t b : s.blocks) drop_ref(b);
  s = sequence_state{};
}

std::uint64_t kv_cache::chain_hash(std::uint64_t prev, std::span<const std::int32_t> tokens) {
  // FNV-1a over the previous hash and the token ids, then a splitmix64 finalizer.
  std::uint64_t h = 1469598103934665603ull ^ prev;
  auto mix = [&h](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xffu;
      h *= 1099511628211ull;
    }
  };
  mix(prev);
  for (std::int32_t t : tokens) mix(static_cast<std::uint32_t>(t));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::int32_t kv_cache::reuse_prefix(std::int32_t seq, std::span<const std::int32_t> tokens, std::int32_t max_tokens) {
  auto& s = seqs_.at(static_cast<std::size_t>(seq));
  assert(s.live && s.tokens.empty() && s.blocks.empty());
  ++stats_.prefix_lookups;
  if (!config_.prefix_reuse) return 0;
  const std::int32_t bt = config_.block_tokens;
  const std::int64_t limit = std::min<std::int64_t>(max_tokens, static_cast<std::int64_t>(tokens.size()));
  std::uint64_t prev = 0;
  std::int32_t attached = 0;
  for (std::int64_t start = 0; start + bt <= limit; start += bt) {
    auto chunk = tokens.subspan(static_cast<std::size_t>(start), static_cast<std::size_t>(bt));
    const std::uint64_t h = chain_hash(prev, chunk);
    auto it = prefix_table_.find(h);
    if (it == prefix_table_.end()) break;
    auto& meta = blocks_[static_cast<std::size_t>(it->second)];
    if (meta.prev_hash != prev || !std::equal(chunk.begin(), chunk.end(), meta.tokens.begin())) break;
    if (meta.ref_count == 0) evictable_.erase({meta.last_use, it->second});
    ++meta.ref_count;
    s.blocks.push_back(it->second);
    s.tokens.insert(s.tokens.end(), chunk.begin(), chunk.end());
    prev = h;
    attached += bt;
    ++stats_.prefix_hit_blocks;
  }
  s.last_hash = prev;
  s.n_hashed_blocks = static_cast<std::int32_t>(s.blocks.size());
  stats_.prefix_hit_tokens += attached;
  return attached;
}

std::int32_t kv_cache::take_block() {
  std::int32_t b = -1;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!evictable_.empty()) {
    // Least recently released cached block: forget its prefix entry and reuse it.
    b = evictable_.begin()->second;
    evictable_.erase(evictable_.begin());
    auto& meta = blocks_[static_cast<std::size_t>(b)];
    prefix_table_.erase(meta.hash);
    ++stats_.evictions;
  } else {
    return -1;
  }
  auto& meta = blocks_[static_cast<std::size_t>(b)];
  meta = block_meta{};
  meta.ref_count = 1;
  return b;
}

void kv_cache::drop_ref(std::int32_t block) {
  auto& meta = blocks_[static_cast<std::size_t>(block)];
  assert(meta.ref_count > 0);
  if (--meta.ref_count > 0) return;
  if (meta.published) {
    meta.last_use = ++tick_;
    evictable_.insert({meta.last_use, block});
  } else {
    free_.push_back(block);
  }
}

bool kv_cache::reserve(std::int32_t seq, std::int64_t n_total) {
  auto& s = seqs_.at(static_cast<std::size_t>(seq));
  const std::int32_t need = blocks_for(n_total) - static_cast<std::int32_t>(s.blocks.size());
  if (need <= 0) return true;
  if (need > n_blocks_available()) return false;
  for (std::int32_t i = 0; i < need; ++i) s.blocks.push_back(take_block());
  return true;
}

void kv_cache::commit(std::int32_t seq, std::span<const std::int32_t> tokens, std::int64_t publish_limit) {
  auto& s = seqs_.at(static_cast<std::size_t>(seq));
  assert(s.tokens.size() + tokens.size() <= s.blocks.size() * static_cast<std::size_t>(config_.block_tokens));
  s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
  if (!config_.prefix_reuse) return;
  const std::int32_t bt = config_.block_tokens;
  const auto n_full = static_cast<std::int32_t>(
      std::min<std::int64_t>(static_cast<std::int64_t>(s.tokens.size()), publish_limit) / bt);
  while (s.n_hashed_blocks < n_full) {
    const std::int32_t i = s.n_hashed_blocks;
    std::span<const std::int32_t> chunk(s.tokens.data() + static_cast<std::size_t>(i) * bt, static_cast<std::size_t>(bt));
    const std::uint64_t h = chain_hash(s.last_hash, chunk);
    const std::int32_t b = s.blocks[static_cast<std::size_t>(i)];
    auto& meta = blocks_[static_cast<std::size_t>(b)];
    // A block already published under this hash (another sequence computed the same
    // prefix concurrently) wins; ours stays private and is freed with the sequence.
    if (!meta.published && prefix_table_.find(h) == prefix_table_.end()) {
      meta.published = true;
      meta.hash = h;
      meta.prev_hash = s.last_hash;
      meta.tokens.assign(chunk.begin(), chunk.end());
      prefix_table_.emplace(h, b);
    }
    s.last_hash = h;
    ++s.n_hashed_blocks;
  }
}

void* kv_cache::k_row(std::int32_t layer, std::int32_t block, std::int32_t slot) {
  return const_cast<void*>(static_cast<const kv_cache*>(this)->k_row(layer, block, slot));
}
void* kv_cache::v_row(std::int32_t layer, std::int32_t block, std::int32_t slot) {
  return const_cast<void*>(static_cast<const kv_cache*>(this)->v_row(layer, block, slot));
}
const void* kv_cache::k_row(std::int32_t layer, std::int32_t block, std::int32_t slot) const {
  const std::size_t row = static_cast<std::size_t>(shape_.n_kv_heads) * shape_.head_dim_k * element_bytes();
  return arena_.data() + static_cast<std::size_t>(block) * block_bytes_ + static_cast<std::size_t>(layer) * (k_layer_bytes_ + v_layer_bytes_) +
         static_cast<std::size_t>(slot) * row;
}
const void* kv_cache::v_row(std::int32_t layer, std::int32_t block, std::int32_t slot) const {
  const std::size_t row = static_cast<std::size_t>(shape_.n_kv_heads) * shape_.head_dim_v * element_bytes();
  return arena_.data() + static_cast<std::size_t>(block) * block_bytes_ + static_cast<std::size_t>(layer) * (k_layer_bytes_ + v_layer_bytes_) +
         k_layer_bytes_ + static_cast<std::size_t>(slot) * row;
}

}  // namespace huashan::engine
