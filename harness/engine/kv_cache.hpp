// Paged KV cache: fixed-size blocks of `block_tokens` token slots in one arena,
// per-sequence block tables, reference-counted blocks, and reuse of full blocks
// of shared prompt prefixes (a block is found by the hash of its tokens chained
// with the previous block's hash, the scheme of vLLM's automatic prefix caching).
//
// Storage: for each block b and layer l,
//   K[b][l]: [block_tokens][n_kv_heads * head_dim_k]   (F32 or F16)
//   V[b][l]: [block_tokens][n_kv_heads * head_dim_v]
// Token at position p of a sequence lives in block table[p / block_tokens], slot p % block_tokens.
// Only full, computed blocks are shared; a sequence writes only into its own last
// block, so shared blocks are never written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "harness/engine/mapped_buffer.hpp"

namespace huashan::engine {

enum class kv_type { f32, f16 };

struct kv_cache_config {
  std::int32_t block_tokens = 16;                      // token slots per block
  std::size_t memory_budget_bytes = 256u << 20;        // K+V bytes for all blocks
  kv_type type = kv_type::f16;                         // element type of K and V
  bool prefix_reuse = true;                            // publish and look up full prompt blocks
};

struct kv_cache_shape {
  std::int32_t n_layers = 0;
  std::int32_t n_kv_heads = 0;
  std::int32_t head_dim_k = 0;
  std::int32_t head_dim_v = 0;
};

// Counters for tests and logs.
struct kv_cache_stats {
  std::int64_t prefix_lookups = 0;      // reuse_prefix calls
  std::int64_t prefix_hit_blocks = 0;   // blocks served from the prefix table
  std::int64_t prefix_hit_tokens = 0;   // tokens not recomputed thanks to them
  std::int64_t evictions = 0;           // cached blocks dropped to make room
};

class kv_cache {
 public:
  // Carves the budget into blocks; throws input_error when not even one block fits.
  kv_cache(const kv_cache_shape& shape, const kv_cache_config& config);

  const kv_cache_config& config() const { return config_; }
  const kv_cache_shape& shape() const { return shape_; }
  std::int32_t n_blocks() const { return n_blocks_; }
  // Blocks that can be handed out now: free plus cached-but-unreferenced (evictable).
  std::int32_t n_blocks_available() const;
  // Blocks needed to hold `n_tokens` token slots.
  std::int32_t blocks_for(std::int64_t n_tokens) const;
  const kv_cache_stats& stats() const { return stats_; }

  // New empty sequence; returns its id (ids of released sequences are reused).
  std::int32_t add_sequence();
  // Drops the sequence's references; published blocks stay cached until evicted.
  void release_sequence(std::int32_t seq);

  // On an empty sequence: attaches cached blocks matching the longest run of full
  // blocks of `tokens[0 .. max_tokens)`; returns the number of tokens attached (a
  // multiple of block_tokens, possibly 0). Their K/V need not be recomputed.
  std::int32_t reuse_prefix(std::int32_t seq, std::span<const std::int32_t> tokens, std::int32_t max_tokens);
  // Grows the block table to hold `n_total` token slots; false (nothing changed
  // beyond blocks already taken) when the cache has too few available blocks.
  bool reserve(std::int32_t seq, std::int64_t n_total);
  // Records that the K/V of `tokens` were written at positions n_past.. of `seq`;
  // full blocks are then published for prefix reuse, those that end at or
  // before `publish_limit` tokens only (blocks past it hold K/V a later prompt
  // would not compute the same way; see llama_graph::prompt_order_matters).
  void commit(std::int32_t seq, std::span<const std::int32_t> tokens,
              std::int64_t publish_limit = std::numeric_limits<std::int64_t>::max());

  // Tokens whose K/V are in the cache for `seq` (its next position).
  std::int32_t n_past(std::int32_t seq) const { return static_cast<std::int32_t>(seqs_[seq].tokens.size()); }
  const std::vector<std::int32_t>& block_table(std::int32_t seq) const { return seqs_[seq].blocks; }

  // Element pointers (void: F32 or F16 per config) of the K/V row of `layer` in `block`, `slot`.
  void* k_row(std::int32_t layer, std::int32_t block, std::int32_t slot);
  void* v_row(std::int32_t layer, std::int32_t block, std::int32_t slot);
  const void* k_row(std::int32_t layer, std::int32_t block, std::int32_t slot) const;
  const void* v_row(std::int32_t layer, std::int32_t block, std::int32_t slot) const;
  std::size_t element_bytes() const { return config_.type == kv_type::f16 ? 2 : 4; }

 private:
  struct block_meta {
    std::int32_t ref_count = 0;
    bool published = false;     // in prefix_table_ under `hash`
    std::uint64_t hash = 0;      // chained hash of the block's tokens
    std::uint64_t prev_hash = 0;
    std::vector<std::int32_t> tokens;  // the block's tokens, to rule out hash collisions
    std::uint64_t last_use = 0;  // tick when the last reference was dropped (LRU)
  };
  struct sequence_state {
    bool live = false;
    std::vector<std::int32_t> blocks;
    std::vector<std::int32_t> tokens;
    std::uint64_t last_hash = 0;   // chained hash after the last full block
    std::int32_t n_hashed_blocks = 0;
  };

  std::int32_t take_block();  // -1 when none is available
  void drop_ref(std::int32_t block);
  static std::uint64_t chain_hash(std::uint64_t prev, std::span<const std::int32_t> tokens);

  kv_cache_shape shape_;
  kv_cache_config config_;
  std::int32_t n_blocks_ = 0;
  std::size_t k_layer_bytes_ = 0;  // bytes of one layer's K in one block
  std::size_t v_layer_bytes_ = 0;
  std::size_t block_bytes_ = 0;    // all layers, K and V
  mapped_buffer arena_;  // pages are mapped when first used
  std::vector<block_meta> blocks_;
  std::vector<std::int32_t> free_;                               // unreferenced, unpublished
  std::set<std::pair<std::uint64_t, std::int32_t>> evictable_;   // (last_use, block): published, unreferenced
  std::unordered_map<std::uint64_t, std::int32_t> prefix_table_;  // hash -> block
  std::vector<sequence_state> seqs_;
  std::uint64_t tick_ = 0;
  kv_cache_stats stats_;
};

}  // namespace huashan::engine
