// Fuzzes suite YAML (lm-evaluation-harness task and group files): any bytes,
// read as a task and as a group, must either give a config or raise the
// project's input_error naming what is wrong; nothing else may escape (a
// yaml-cpp exception, a bad_variant_access, a crash). Includes point into a
// folder that does not exist, so the target never reads the disk.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

#include "common/error.hpp"
#include "harness/eval/suite_loader.hpp"

namespace {

template <typename Parse>
void expect_config_or_input_error(Parse parse) {
  try {
    parse();
  } catch (const huashan::input_error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_suite_yaml: not an input_error: %s\n", e.what());
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const std::string file = "/nonexistent-fuzz-suites/task.yaml";
  expect_config_or_input_error([&] { huashan::harness::eval::parse_task_yaml(text, file); });
  expect_config_or_input_error([&] { huashan::harness::eval::parse_group_yaml(text, file); });
  return 0;
}
