#include "harness/eval/fewshot.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/error.hpp"

namespace huashan::harness::eval {

shot_sampler::shot_sampler(const std::string& name, std::uint64_t seed, const std::string& where)
    : first_n_(name == "first_n"), random_(seed) {
  if (name != "default" && name != "first_n") {
    throw input_error(fmt::format("{}, fewshot_sampler: unknown sampler '{}' (expected default or first_n)", where,
                                  name));
  }
}

std::vector<std::size_t> shot_sampler::draw(std::size_t pool_size, std::size_t count, const std::string& where) {
  if (first_n_) {
    std::vector<std::size_t> first(std::min(count, pool_size));
    for (std::size_t i = 0; i < first.size(); ++i) first[i] = i;
    return first;
  }
  if (count > pool_size) {
    throw input_error(fmt::format("{}: {} few-shot documents are needed but the few-shot split has {}", where, count,
                                  pool_size));
  }
  return random_.sample_indices(pool_size, count);
}

namespace {

bool numeric(const boost::json::value& v) { return v.is_number() || v.is_bool(); }

bool numbers_equal(const boost::json::value& a, const boost::json::value& b) {
  const auto as_int = [](const boost::json::value& v, bool& exact) -> long double {
    exact = true;
    if (v.is_bool()) return v.get_bool() ? 1 : 0;
    if (v.is_int64()) return static_cast<long double>(v.get_int64());
    if (v.is_uint64()) return static_cast<long double>(v.get_uint64());
    exact = false;
    return v.get_double();
  };
  bool exact_a = false;
  bool exact_b = false;
  const long double x = as_int(a, exact_a);
  const long double y = as_int(b, exact_b);
  if (exact_a && exact_b) {
    if (a.is_uint64() || b.is_uint64()) {
      // Compare without the long double's rounding near 2^64.
      const auto unsigned_of = [](const boost::json::value& v, bool& ok) -> std::uint64_t {
        ok = true;
        if (v.is_uint64()) return v.get_uint64();
        if (v.is_bool()) return v.get_bool() ? 1 : 0;
        ok = v.get_int64() >= 0;
        return static_cast<std::uint64_t>(v.get_int64());
      };
      bool ok_a = false;
      bool ok_b = false;
      const auto ua = unsigned_of(a, ok_a);
      const auto ub = unsigned_of(b, ok_b);
      return ok_a && ok_b && ua == ub;
    }
    return x == y;
  }
  return x == y;
}

}  // namespace

bool python_equal(const boost::json::value& a, const boost::json::value& b) {
  if (numeric(a) && numeric(b)) return numbers_equal(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case boost::json::kind::null: return true;
    case boost::json::kind::string: return a.get_string() == b.get_string();
    case boost::json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        if (!python_equal(x[i], y[i])) return false;
      }
      return true;
    }
    case boost::json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x) {
        const auto* other = y.if_contains(key);
        if (other == nullptr || !python_equal(value, *other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

}  // namespace huashan::harness::eval
