#include "arena/service/model_admin.hpp"

#include "arena/service/model_registry.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace huashan::arena {
namespace {

arena_model offered(const registered_model& m, model_record record) {
  arena_model am;
  am.record = std::move(record);
  am.weight = m.weight;
  am.identity_words = m.identity_words;
  am.random_weights = m.random_weights;
  am.backend = make_remote_backend(m);
  return am;
}

}  // namespace

std::vector<model_record> model_admin::list() const { return store_.list_models(false); }

model_record model_admin::add_endpoint(const std::string& json_text, const std::string& origin) {
  const auto model = parse_remote_model_entry(json_text, origin);
  // The client first: an unset key variable is refused before anything is stored.
  auto am = offered(model, {});
  am.record = store_.insert_model({0, model.name, model.display_name, model.organization, model.license, "openai",
                                   backend_config_json(model), model.enabled});
  try {
    battles_.add_model(am);
  } catch (const conflict_error&) {
    // Offered meanwhile by sync() on this process's background tick, from the row just stored.
  }
  return am.record;
}

model_record model_admin::edit(const std::string& name, const model_changes& changes) {
  const auto stored = store_.update_model(name, changes);
  battles_.sync_models({stored}, nullptr);
  return stored;
}

bool model_admin::set_enabled(const std::string& name, bool enabled) {
  store_.set_model_enabled(name, enabled);
  return battles_.set_model_enabled(name, enabled);
}

std::size_t model_admin::sync() { return battles_.sync_models(store_.list_models(false), endpoint_model_from_record); }

std::optional<arena_model> endpoint_model_from_record(const model_record& record) {
  try {
    const auto m = remote_model_from_record(record);
    if (!m) return std::nullopt;
    return offered(*m, record);
  } catch (const std::exception& e) {
    log::warn("model '{}' from the models table is not offered: {}", record.name, e.what());
    return std::nullopt;
  }
}

}  // namespace huashan::arena
