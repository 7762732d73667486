// A request's JSON body, for handlers that read one (Boost.JSON in the header).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "arena/http/server.hpp"

namespace huashan::arena::http {

// The body as a JSON object; input_error naming what is wrong.
boost::json::object body_object(const request& req);
// `body` as a JSON response with `status`, never cached.
response json_response(int status, const boost::json::value& body);

}  // namespace huashan::arena::http
