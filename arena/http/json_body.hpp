// A request's JSON body, for handlers that read one (Boost.JSON in the header).
#pragma once

#include <boost/json/object.hpp>

#include "arena/http/server.hpp"

namespace huashan::arena::http {

// The body as a JSON object; input_error naming what is wrong.
boost::json::object body_object(const request& req);

}  // namespace huashan::arena::http
