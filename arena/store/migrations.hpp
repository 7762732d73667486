// Schema migrations: sql/NNNN_name.sql applied in version order, each in its own
// transaction, recorded in schema_migrations (version, name, checksum, applied_at).
// An applied file whose checksum changed is a hard error naming the file.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace huashan::arena::store {

// A migration file as found: its file name and text.
struct migration_source {
  std::string filename;  // "0001_init.sql"
  std::string sql;
};

struct migration {
  int version = 0;       // from the NNNN prefix
  std::string name;      // "init"
  std::string filename;  // "0001_init.sql"
  std::string sql;
  std::string checksum;  // sha256 of the file's bytes, hex
};

enum class migration_state {
  applied,            // recorded with the same checksum
  pending,            // not recorded yet
  checksum_mismatch,  // recorded, but the file changed since
  unknown_to_binary,  // recorded in the database, no such file here (a newer binary applied it)
};

struct migration_status_entry {
  int version = 0;
  std::string name;
  migration_state state = migration_state::pending;
  std::string applied_at;  // ISO timestamp when applied
};

// Parses and orders migration sources; throws input_error for a bad file name or
// a duplicated version.
std::vector<migration> parse_migrations(const std::vector<migration_source>& sources);
// The migrations compiled into this binary (from sql/).
std::vector<migration_source> embedded_migration_sources();
std::vector<migration> embedded_migrations();
// Reads every NNNN_*.sql from `dir`; throws io_error if the folder is unreadable.
std::vector<migration> load_migrations(const std::filesystem::path& dir);

// Applies pending migrations in order under an advisory lock; returns the versions
// applied (empty when already current). Throws database_error naming the file whose
// SQL failed (its transaction rolled back, nothing recorded) or whose checksum changed.
std::vector<int> migrate(const std::string& url, const std::vector<migration>& migrations);
// State of every migration known to the binary or recorded in the database, by version.
std::vector<migration_status_entry> migration_status(const std::string& url,
                                                     const std::vector<migration>& migrations);
// "applied", "pending", ...
const char* state_name(migration_state state);

}  // namespace huashan::arena::store
