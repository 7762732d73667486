// Writes a battle table as CSV in LMArena's column names, the format
// battle_reader.hpp reads back: anyone can recompute a board from an export.
#pragma once

#include <string>

#include "ranking/battle.hpp"

namespace huashan::ranking {

// CSV (RFC 4180, LF line ends) with the header model_a,model_b,winner followed
// by the optional columns the table has, in this order: tstamp, language,
// category (tags joined by '|'), judge, sampling_probability, then
// len_a,len_b,header_a,header_b,list_a,list_b,bold_a,bold_b. Fields holding a
// comma, quote, CR or LF are quoted; numbers are written so that reading them
// back gives the same double. Never fails.
std::string write_battles_csv(const battle_table& table);

}  // namespace huashan::ranking
