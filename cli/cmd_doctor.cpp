#include <fmt/format.h>

#include "arena/store/database.hpp"
#include "cli/commands.hpp"
#include "common/build_info.hpp"
#include "common/config.hpp"
#include "harness/engine/cpu_features.hpp"
#include "harness/engine/cuda/device_info.hpp"
#include "harness/engine/quants.hpp"

namespace huashan::cli {

int run_doctor(const global_options& global) {
  fmt::print("huashan {}\n", build_info::version);
  fmt::print("build:    {} ({}), CUDA backend {}, sanitizers {}\n", build_info::build_type, build_info::compiler,
             build_info::cuda ? "on" : "off", build_info::sanitizers ? "on" : "off");
  const auto& cpu = engine::detect_cpu_features();
  fmt::print("cpu:      {} logical cores; {}\n", cpu.logical_cores, engine::describe(cpu));
  fmt::print("kernels:  {}\n", engine::packed_product_available()
                                    ? "AVX-512 packed products for q8_0, q4_k, q6_k, f16 (weights repacked at load)"
                                    : engine::detect_cpu_features().avx2 ? "AVX2 row dots (no AVX-512 VNNI: no packed products)"
                                                                         : "scalar reference kernels");
  const auto cuda = engine::cuda::query_devices();
  if (cuda.devices.empty()) {
    fmt::print("cuda:     none ({})\n", cuda.note);
  } else {
    for (const auto& d : cuda.devices)
      fmt::print("cuda:     [{}] {} (sm_{}{}, {} SMs, {:.1f} GiB)\n", d.index, d.name, d.compute_major, d.compute_minor,
                 d.multiprocessors, static_cast<double>(d.total_memory_bytes) / (1024.0 * 1024.0 * 1024.0));
  }
  if (!global.database_url) {
    fmt::print("database: not configured (set DATABASE_URL or --database-url)\n");
    return 0;
  }
  const auto health = arena::store::check_database(*global.database_url);
  if (!health.reachable) {
    fmt::print("database: UNREACHABLE at {}: {}\n", config::redact_url(*global.database_url), health.error);
    return 1;
  }
  fmt::print("database: reachable at {} (PostgreSQL {}); migrations {}/{} applied{}\n",
             config::redact_url(*global.database_url), health.server_version, health.applied_migrations,
             health.known_migrations, health.migrations_current ? "" : " (run `huashan db migrate`)");
  return 0;
}

}  // namespace huashan::cli
