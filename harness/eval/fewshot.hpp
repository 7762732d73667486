// Which few-shot documents a prompt shows, as lm-evaluation-harness's
// samplers pick them: "default" draws with Python's random.sample from one
// generator per task (seeded with fewshot_seed and advanced document after
// document), "first_n" takes the split's first documents.
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "harness/eval/python_random.hpp"

namespace huashan::harness::eval {

class shot_sampler {
 public:
  // input_error naming `where` for an unknown sampler name.
  shot_sampler(const std::string& name, std::uint64_t seed, const std::string& where);

  // The indices of `count` documents of a split of `pool_size`, in the order
  // they are shown. input_error naming `where` when the default sampler is
  // asked for more documents than the split has.
  std::vector<std::size_t> draw(std::size_t pool_size, std::size_t count, const std::string& where);

 private:
  bool first_n_ = false;
  python_random random_;
};

// Python's == on the values JSON stands for: numbers by value (1 == 1.0 ==
// True), dicts whatever their key order. A shot equal to the document being
// asked is left out.
bool python_equal(const boost::json::value& a, const boost::json::value& b);

}  // namespace huashan::harness::eval
