#include "arena/store/migrations.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <fstream>
#include <map>
#include <sstream>

#include "arena/store/pg.hpp"
#include "common/error.hpp"
#include "common/log.hpp"

namespace huashan::arena::store {
namespace {

// Any constant works; it only has to be the same in every arena process.
constexpr long long migration_lock_key = 0x48756173'68616e31LL;  // "Huashan1"

std::string sha256_hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  std::string hex;
  hex.reserve(2 * sizeof digest);
  for (unsigned char byte : digest) hex += fmt::format("{:02x}", byte);
  return hex;
}

void ensure_migrations_table(pqxx::connection& conn) {
  pqxx::work tx(conn);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "  version integer PRIMARY KEY,"
      "  name text NOT NULL,"
      "  checksum text NOT NULL,"
      "  applied_at timestamptz NOT NULL DEFAULT now())");
  tx.commit();
}

struct recorded_migration {
  std::string name;
  std::string checksum;
  std::string applied_at;
};

std::map<int, recorded_migration> read_recorded(pqxx::transaction_base& tx) {
  std::map<int, recorded_migration> recorded;
  const auto exists = tx.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>();
  if (!exists) return recorded;
  for (const auto& row : tx.exec(
           "SELECT version, name, checksum, "
           "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
           "FROM schema_migrations ORDER BY version")) {
    recorded[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>()};
  }
  return recorded;
}

void check_checksums(const std::map<int, recorded_migration>& recorded, const std::vector<migration>& migrations) {
  for (const auto& m : migrations) {
    const auto it = recorded.find(m.version);
    if (it != recorded.end() && it->second.checksum != m.checksum)
      throw database_error(fmt::format(
          "migration {} was changed after it was applied (recorded checksum {}, file checksum {}); "
          "applied migrations must never be edited: add a new migration instead",
          m.filename, it->second.checksum.substr(0, 12), m.checksum.substr(0, 12)));
  }
}

// "0001_init.sql" -> {1, "init"}; nullopt unless NNNN_ then [A-Za-z0-9_]+ then .sql.
std::optional<std::pair<int, std::string>> parse_file_name(const std::string& filename) {
  constexpr std::string_view suffix = ".sql";
  if (filename.size() < 4 + 1 + 1 + suffix.size()) return std::nullopt;
  if (filename.compare(filename.size() - suffix.size(), suffix.size(), suffix) != 0) return std::nullopt;
  int version = 0;
  for (int i = 0; i < 4; ++i) {
    if (filename[i] < '0' || filename[i] > '9') return std::nullopt;
    version = version * 10 + (filename[i] - '0');
  }
  if (filename[4] != '_') return std::nullopt;
  std::string name = filename.substr(5, filename.size() - 5 - suffix.size());
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return std::nullopt;
  return std::make_pair(version, std::move(name));
}

}  // namespace

std::vector<migration> parse_migrations(const std::vector<migration_source>& sources) {
  if (sodium_init() < 0) throw error("libsodium failed to initialise");
  std::vector<migration> out;
  for (const auto& source : sources) {
    const auto parsed = parse_file_name(source.filename);
    if (!parsed)
      throw input_error(fmt::format("migration file name '{}' does not match NNNN_name.sql", source.filename));
    migration m;
    m.version = parsed->first;
    m.name = parsed->second;
    m.filename = source.filename;
    m.sql = source.sql;
    m.checksum = sha256_hex(source.sql);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const migration& a, const migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version)
      throw input_error(fmt::format("migrations {} and {} share version {}", out[i - 1].filename, out[i].filename,
                                    out[i].version));
  }
  return out;
}

std::vector<migration> embedded_migrations() { return parse_migrations(embedded_migration_sources()); }

std::vector<migration> load_migrations(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) throw io_error(fmt::format("cannot read migrations folder {}: {}", dir.string(), ec.message()));
  std::vector<migration_source> sources;
  for (const auto& entry : it) {
    if (!entry.is_regular_file() || entry.path().extension() != ".sql") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) throw io_error(fmt::format("cannot open migration {}", entry.path().string()));
    std::ostringstream text;
    text << in.rdbuf();
    sources.push_back({entry.path().filename().string(), text.str()});
  }
  return parse_migrations(sources);
}

std::vector<int> migrate(const std::string& url, const std::vector<migration>& migrations) {
  auto conn = open_connection(url);
  std::vector<int> applied;
  try {
    // Session-level lock, taken before anything else (even creating the table):
    // two processes migrating at once apply each file once.
    conn->prepare("lock", "SELECT pg_advisory_lock($1)");
    conn->prepare("unlock", "SELECT pg_advisory_unlock($1)");
    {
      pqxx::nontransaction lock_tx(*conn);
      lock_tx.exec_prepared("lock", migration_lock_key);
    }
    ensure_migrations_table(*conn);
    std::map<int, recorded_migration> recorded;
    {
      pqxx::read_transaction tx(*conn);
      recorded = read_recorded(tx);
    }
    check_checksums(recorded, migrations);
    for (const auto& m : migrations) {
      if (recorded.count(m.version) != 0) continue;
      try {
        pqxx::work tx(*conn);
        tx.exec(m.sql);
        tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", m.version,
                       m.name, m.checksum);
        tx.commit();
      } catch (const pqxx::sql_error& e) {
        throw database_error(
            fmt::format("migration {} failed and was rolled back: {}", m.filename, first_line(e.what())));
      }
      log::info("applied migration {}", m.filename);
      applied.push_back(m.version);
    }
    pqxx::nontransaction unlock_tx(*conn);
    unlock_tx.exec_prepared("unlock", migration_lock_key);
  } catch (...) {
    rethrow_as_database_error("migrating the database");
  }
  return applied;
}

std::vector<migration_status_entry> migration_status(const std::string& url,
                                                     const std::vector<migration>& migrations) {
  auto conn = open_connection(url);
  std::map<int, recorded_migration> recorded;
  try {
    pqxx::read_transaction tx(*conn);
    recorded = read_recorded(tx);
  } catch (...) {
    rethrow_as_database_error("reading schema_migrations");
  }
  std::map<int, migration_status_entry> entries;
  for (const auto& m : migrations) {
    migration_status_entry e;
    e.version = m.version;
    e.name = m.name;
    const auto it = recorded.find(m.version);
    if (it == recorded.end()) {
      e.state = migration_state::pending;
    } else {
      e.state = it->second.checksum == m.checksum ? migration_state::applied : migration_state::checksum_mismatch;
      e.applied_at = it->second.applied_at;
    }
    entries[m.version] = e;
  }
  for (const auto& [version, r] : recorded) {
    if (entries.count(version) != 0) continue;
    entries[version] = {version, r.name, migration_state::unknown_to_binary, r.applied_at};
  }
  std::vector<migration_status_entry> out;
  for (auto& [version, e] : entries) out.push_back(std::move(e));
  return out;
}

const char* state_name(migration_state state) {
  switch (state) {
    case migration_state::applied: return "applied";
    case migration_state::pending: return "pending";
    case migration_state::checksum_mismatch: return "checksum mismatch";
    case migration_state::unknown_to_binary: return "unknown to this binary";
  }
  return "?";
}

}  // namespace huashan::arena::store
