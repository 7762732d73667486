// Database administration used by tests and operations: create and drop whole
// databases next to the one a URL names.
#pragma once

#include <string>

namespace huashan::arena::store {

// `url` with its database name replaced by `database` (as a libpq keyword string).
// Throws input_error if libpq cannot parse `url`.
std::string url_with_database(const std::string& url, const std::string& database);
// CREATE DATABASE / DROP DATABASE IF EXISTS (WITH FORCE) through the server at
// `url`; `database` must be a plain identifier. Throws database_error.
void create_database(const std::string& url, const std::string& database);
void drop_database(const std::string& url, const std::string& database);

}  // namespace huashan::arena::store
