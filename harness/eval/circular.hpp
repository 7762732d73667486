// CircularEval: a multiple-choice document is asked once per rotation of its
// option texts (k options, k rotations; rotation r puts option (i + r) mod k
// at label i and moves the gold with it), and counts as solved circularly
// only when every rotation is answered right. A model that favours a label
// rather than knowing the answer passes the plain order and fails the rest.
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "harness/eval/suite_config.hpp"
#include "harness/eval/suite_loader.hpp"

namespace huashan::harness::eval {

// The document as each rotation shows it: `doc` itself first, then rotations
// 1..k-1 with the option fields' texts moved and the gold rewritten in its own
// format (the same letter, index type or label list). input_error, prefixed
// with `where` (the task and document), naming the field that is missing, not
// a list, or a gold that names no option.
std::vector<boost::json::object> circular_rotations(const circular_config& circular, const boost::json::object& doc,
                                                    const std::string& where);

// The metrics a circular run adds beside the task's own: acc_circular, and
// acc_norm_circular when acc_norm is listed (mean, higher is better).
std::vector<metric_spec> circular_metrics(const std::vector<metric_spec>& metrics);
bool is_circular_metric(std::string_view metric);

// The suites as a circular run runs them: tasks with their circular metrics
// added; a task reached only through groups and without a circular block left
// out (and out of its groups; a group left empty goes too); groups aggregate
// the circular form of each acc metric they aggregate. input_error naming the
// task when one asked for by itself has no circular block, or when nothing
// with one is left.
suite_selection circular_selection(const suite_selection& suites);

}  // namespace huashan::harness::eval
