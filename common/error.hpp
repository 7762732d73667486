// Typed errors shared by every layer. Messages name the object (file, field,
// line, URL) and what was expected, so a user can act on them without a trace.
// Programmer errors are assertions, not these.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace huashan {

// Base of every error the project throws on purpose; main() prints what() on one line.
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input from a user: a file, a flag, a request field. The message names it.
class input_error : public error {
 public:
  using error::error;
};

// A bad value of a library call's named parameter (e.g. `anchor`). The message
// is "<parameter>: <detail>"; a front end (a CLI flag, a request field) can
// say it in its own words from parameter() and detail().
class parameter_error : public input_error {
 public:
  parameter_error(std::string parameter, std::string detail)
      : input_error(parameter + ": " + detail), parameter_(std::move(parameter)), detail_(std::move(detail)) {}
  const std::string& parameter() const { return parameter_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string parameter_;
  std::string detail_;
};

// A named object (battle, model, snapshot) does not exist; the message names it.
class not_found_error : public input_error {
 public:
  using input_error::input_error;
};

// The request conflicts with the object's state (e.g. a vote before the answers
// are complete); the message says what to do instead.
class conflict_error : public input_error {
 public:
  using input_error::input_error;
};

// Too many requests from one session or address; retry after the given time.
class rate_limited_error : public input_error {
 public:
  rate_limited_error(const std::string& message, double retry_after_seconds)
      : input_error(message), retry_after_seconds_(retry_after_seconds) {}
  double retry_after_seconds() const { return retry_after_seconds_; }

 private:
  double retry_after_seconds_;
};

// A file, socket or device operation failed; the message names the path or address.
class io_error : public error {
 public:
  using error::error;
};

// Invalid configuration (flags, HUASHAN_* variables, config files).
class config_error : public error {
 public:
  using error::error;
};

// The database was unreachable or refused a statement; the message has no password.
class database_error : public error {
 public:
  using error::error;
};

// Returns the first line of a (possibly multi-line) library message, trimmed.
std::string first_line(const std::string& message);

}  // namespace huashan
