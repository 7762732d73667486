// The arena's prompt language (arena/domain/language.hpp): the code a battle is
// stored with, zh / en / other by script share of the first prompt's letters.
#include <doctest/doctest.h>

#include <string>

#include "arena/domain/language.hpp"

using namespace huashan::arena;

TEST_CASE("a Chinese prompt is zh, an English one en") {
  CHECK(prompt_language("你好，请介绍一下长城的历史。") == "zh");
  CHECK(prompt_language("Tell me a story about a dragon.") == "en");
  CHECK(prompt_language("  what is 2+2?  ") == "en");
}

TEST_CASE("mixed prompts follow the share of letters: Han from 20%, ASCII Latin from 80%") {
  // 9 Han of 15 letters: zh even though the prompt names Python.
  CHECK(prompt_language("请用Python写一个快速排序") == "zh");
  // 2 Han of 19 letters (about 11%), 17 Latin (about 89%): en.
  CHECK(prompt_language("The word 你好 means hello") == "en");
  // Neither Han nor mostly Latin letters.
  CHECK(prompt_language("Привет, как дела?") == "other");
  CHECK(prompt_language("Bonjour, ça va? Привет, как дела?") == "other");
  CHECK(prompt_language("こんにちは") == "other");  // kana are letters but not Han
}

TEST_CASE("a prompt without letters is other") {
  CHECK(prompt_language("") == "other");
  CHECK(prompt_language("12345 + 678 = ?") == "other");
  CHECK(prompt_language("😀😀🎉 !!!") == "other");
  CHECK(prompt_language("，。！？") == "other");  // CJK punctuation is not Han
}

TEST_CASE("invalid UTF-8 never throws; its bytes count as non-letters") {
  CHECK_NOTHROW((void)prompt_language("\xff\xfe\xc3"));
  CHECK(prompt_language("\xff\xfe\xc3") == "other");
  CHECK(prompt_language("hello \xff\xc3 world") == "en");
  CHECK(prompt_language(std::string("\xe4\xbd", 2)) == "other");  // a truncated 你
  CHECK(prompt_language(std::string("中文\xe4\xbd", 8)) == "zh");
  CHECK(prompt_language(std::string("a\0b", 3)) == "en");
}
