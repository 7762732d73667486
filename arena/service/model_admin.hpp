// Admin model management without HTTP: list the `models` table, add an
// OpenAI-compatible endpoint, edit a model's labels, switch a model in or out
// of the draw, and pick up what other arena processes changed. Every change is
// stored first (the table is the truth all processes share), then applied to
// this process's battle service from the next battle on.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "arena/domain/model.hpp"
#include "arena/service/battle_service.hpp"
#include "arena/store/arena_store.hpp"

namespace huashan::arena {

class model_admin {
 public:
  // `store` and `battles` must outlive this object.
  model_admin(store::arena_store& store, battle_service& battles) : store_(store), battles_(battles) {}

  // Every stored model, ordered by name. database_error.
  std::vector<model_record> list() const;
  // Adds an endpoint model given as a JSON object with the registry's fields
  // (parse_remote_model_entry; `origin` names it in errors) and offers it from
  // the next battle on. Refused before anything is stored: input_error naming
  // the field, config_error when its api_key_env variable is unset. The
  // table's unique name refuses a name that exists: conflict_error naming it.
  model_record add_endpoint(const std::string& json_text, const std::string& origin);
  // Applies `changes` to the stored model `name` and to this process's offer.
  // not_found_error naming it.
  model_record edit(const std::string& name, const model_changes& changes);
  // Enables or disables the stored model `name`; returns whether this process
  // offers it (else the change is stored only). not_found_error naming it.
  bool set_enabled(const std::string& name, bool enabled);
  // Brings the battle service in step with the table (another process's admin
  // changes); returns how many endpoint models were added. database_error.
  std::size_t sync();

 private:
  store::arena_store& store_;
  battle_service& battles_;
};

// The battle model for an endpoint stored in the `models` table (added by an
// admin, perhaps through another process); nullopt for a local model, and for
// an endpoint that cannot be offered here (its stored settings unreadable, its
// key variable unset: logged as a warning).
std::optional<arena_model> endpoint_model_from_record(const model_record& record);

}  // namespace huashan::arena
