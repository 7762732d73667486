#include <doctest/doctest.h>

#include "arena/domain/answer_features.hpp"

using namespace huashan::arena;

TEST_CASE("markdown counts: headers, list items and bold, code blocks excluded") {
  const auto counts = count_markdown(
      "# Title\n"
      "Some **bold** and __also bold__ text, and ** not closed\n"
      "## Part\n"
      "- one\n"
      "  * two\n"
      "3. three\n"
      "#hashtag is not a header\n"
      "```\n"
      "# not a header in code\n"
      "- not a list in code **nor bold**\n"
      "```\n"
      "####### seven hashes is not a header\n");
  CHECK(counts.headers == 2);
  CHECK(counts.list_items == 3);
  CHECK(counts.bold == 2);
  const auto empty = count_markdown("");
  CHECK(empty.headers + empty.list_items + empty.bold == 0);
}

TEST_CASE("identity words match whole words, ignoring case") {
  const std::vector<std::string> words{"Qwen", "Alibaba", "GPT-4"};
  CHECK(find_identity_word("I am qwen, a model.", words) == "Qwen");
  CHECK(find_identity_word("Made by ALIBABA Cloud", words) == "Alibaba");
  CHECK(find_identity_word("I am like gpt-4.", words) == "GPT-4");
  CHECK_FALSE(find_identity_word("Qwenlike things", words).has_value());
  CHECK_FALSE(find_identity_word("nothing here", words).has_value());
  CHECK_FALSE(find_identity_word("anything", {""}).has_value());
}
