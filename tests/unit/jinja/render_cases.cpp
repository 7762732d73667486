// Renders every case of a JSON case file with our engine and prints the
// results as JSON, for tests/jinja/compare.py to compare with jinja2's:
//   jinja_render_cases CASES.json TEMPLATE_DIR > results.json
// A case: {name, template | template_file, environment: "suite"|"chat",
// variables}; the file's "clock" (Unix seconds) is strftime_now's time.
// A result: {name, output, ranges: [[begin, end]...]} or {name, error}.
#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "harness/jinja/jinja.hpp"

namespace json = boost::json;
using namespace huashan::harness::jinja;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CASES.json TEMPLATE_DIR\n", argv[0]);
    return 2;
  }
  try {
    json::value file = json::parse(read_file(argv[1]));
    std::string template_dir = argv[2];
    std::int64_t clock = file.as_object().contains("clock") ? file.at("clock").to_number<std::int64_t>() : 0;
    render_options options;
    options.unix_seconds_now = [clock] { return clock; };
    json::array results;
    for (const auto& c : file.at("cases").as_array()) {
      const auto& obj = c.as_object();
      json::object result;
      result["name"] = obj.at("name");
      try {
        std::string source = obj.contains("template") ? std::string(obj.at("template").as_string())
                                                      : read_file(template_dir + "/" + std::string(obj.at("template_file").as_string()));
        auto env = obj.at("environment").as_string() == "chat" ? chat_environment() : suite_environment();
        auto t = template_::parse(source, env, std::string(obj.at("name").as_string()));
        std::vector<variable_range> ranges;
        result["output"] = t.render(obj.at("variables").as_object(), options, ranges);
        json::array r;
        for (const auto& range : ranges) r.push_back(json::array{range.begin, range.end});
        result["ranges"] = std::move(r);
      } catch (const template_error& e) {
        result["error"] = e.what();
      }
      results.push_back(std::move(result));
    }
    std::cout << json::serialize(results) << "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jinja_render_cases: %s\n", e.what());
    return 1;
  }
  return 0;
}
