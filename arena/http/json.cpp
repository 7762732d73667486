#include "arena/http/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <fmt/format.h>

#include "arena/http/json_body.hpp"
#include "common/error.hpp"
#include "common/utf8.hpp"

namespace huashan::arena::http {

std::string json_quote(std::string_view text) {
  // Boost.JSON writes a string's bytes as they are; a JSON text must be UTF-8.
  if (!utf8_is_valid(text)) return boost::json::serialize(boost::json::string(utf8_sanitize(text)));
  return boost::json::serialize(boost::json::string(text));
}

boost::json::object body_object(const request& req) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(req.body, ec);
  if (ec) throw input_error(fmt::format("request body is not valid JSON: {}", ec.message()));
  if (!v.is_object()) throw input_error("request body must be a JSON object");
  return std::move(v.as_object());
}

response json_response(int status, const boost::json::value& body) {
  response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace huashan::arena::http
