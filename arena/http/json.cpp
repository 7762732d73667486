#include "arena/http/json.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace huashan::arena::http {

std::string json_quote(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

}  // namespace huashan::arena::http
