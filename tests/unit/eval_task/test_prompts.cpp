// Prompts and requests as lm-evaluation-harness builds them: description,
// shots (first_n and the seeded default sampler, whose picks equal Python's
// random.sample), delimiters, the requests of each output type and the
// samples' hashes. Expected picks and hashes were printed by python3.
#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>

#include "harness/eval/task.hpp"
#include "test_helpers.hpp"

using namespace huashan::harness;
using namespace huashan::harness::eval;
using eval_task_test::doc;
using eval_task_test::quiz_docs;
using eval_task_test::quiz_task;

namespace {

// The shot a quiz document gives with the default delimiters.
std::string quiz_shot(const document& d) {
  const auto answer = static_cast<std::size_t>(d.at("answer").as_int64());
  return "Question: " + std::string(d.at("question").as_string()) + "\nAnswer: " +
         std::string(d.at("choices").as_array().at(answer).as_string()) + "\n\n";
}

std::string quiz_text(const document& d) {
  return "Question: " + std::string(d.at("question").as_string()) + "\nAnswer:";
}

const loglikelihood_request& ll(const request& r) { return std::get<loglikelihood_request>(r.args); }

}  // namespace

TEST_CASE("multiple choice, 0-shot: prompt, one request per choice, samples' arguments and hashes") {
  const auto task = quiz_task();
  const auto prepared = prepare_task(task, quiz_docs(), {}, {});
  REQUIRE(prepared.docs.size() == 5);
  CHECK(prepared.n_original == 5);
  CHECK(prepared.num_fewshot == 0);
  const auto& d = prepared.docs[0];
  CHECK(d.prompt == "Question: What is 2+2?\nAnswer:");
  CHECK(d.choices == std::vector<std::string>{"3", "4", "5"});
  CHECK(d.target.as_int64() == 1);
  REQUIRE(d.requests.size() == 3);
  CHECK(ll(d.requests[0]).context == d.prompt);
  CHECK(ll(d.requests[0]).continuation == " 3");
  CHECK(ll(d.requests[2]).continuation == " 5");
  CHECK(boost::json::serialize(d.arguments) ==
        R"({"gen_args_0":{"arg_0":"Question: What is 2+2?\nAnswer:","arg_1":" 3"},)"
        R"("gen_args_1":{"arg_0":"Question: What is 2+2?\nAnswer:","arg_1":" 4"},)"
        R"("gen_args_2":{"arg_0":"Question: What is 2+2?\nAnswer:","arg_1":" 5"}})");
  // sha256 of json.dumps(doc, indent=2, ensure_ascii=False), of the prompt, of str(1)
  CHECK(d.doc_hash == "e5f24924c216635ce56a5b22b262adc27471313f4ef75ec9e987eae1ff703a8e");
  CHECK(d.prompt_hash == "79afd63020023c3541ea277cb04d7ab38c951148484e3c8263be0736bc06a838");
  CHECK(d.target_hash == "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b");
  CHECK(prepared.prompts_hash.size() == 64);
}

TEST_CASE("multiple choice, 2-shot first_n from a few-shot split; limit") {
  auto task = quiz_task();
  task.fewshot_sampler = "first_n";
  task.num_fewshot = 2;
  const std::vector<document> train = {
      doc(R"({"question": "Capital of France?", "choices": ["Paris", "Rome"], "answer": 0})"),
      doc(R"({"question": "3*3?", "choices": ["6", "9"], "answer": 1})"),
      doc(R"({"question": "unused", "choices": ["a", "b"], "answer": 0})"),
  };
  const auto prepared = prepare_task(task, quiz_docs(), train, {.limit = 2});
  REQUIRE(prepared.docs.size() == 2);
  CHECK(prepared.n_original == 5);
  CHECK(prepared.docs[0].prompt ==
        "Question: Capital of France?\nAnswer: Paris\n\n"
        "Question: 3*3?\nAnswer: 9\n\n"
        "Question: What is 2+2?\nAnswer:");
  CHECK(prepared.docs[1].prompt ==
        "Question: Capital of France?\nAnswer: Paris\n\nQuestion: 3*3?\nAnswer: 9\n\nQuestion: Sky color?\nAnswer:");
}

TEST_CASE("default sampler from the test split: random.Random(1234).sample(docs, 3) per document, itself left out") {
  auto task = quiz_task();
  task.num_fewshot = 2;
  const auto docs = quiz_docs();
  const auto prepared = prepare_task(task, docs, {}, {});
  // r = random.Random(1234); for each doc in order: [x for x in r.sample(range(5), 3) if x != i][:2]
  const std::vector<std::vector<std::size_t>> shots = {{3, 4}, {0, 4}, {0, 4}, {1, 0}, {0, 2}};
  REQUIRE(prepared.docs.size() == 5);
  for (std::size_t i = 0; i < docs.size(); ++i) {
    CAPTURE(i);
    CHECK(prepared.docs[i].prompt == quiz_shot(docs[shots[i][0]]) + quiz_shot(docs[shots[i][1]]) + quiz_text(docs[i]));
  }
  // Another seed gives other shots; the same seed the same prompts.
  CHECK(prepare_task(task, docs, {}, {.seed = 1234}).prompts_hash == prepared.prompts_hash);
  CHECK(prepare_task(task, docs, {}, {.seed = 5}).prompts_hash != prepared.prompts_hash);
}

TEST_CASE("default sampler from a few-shot split, the seed and num_fewshot from the options") {
  auto task = quiz_task();
  std::vector<document> train;
  for (int i = 0; i < 6; ++i) {
    train.push_back(doc(("{\"question\": \"q" + std::to_string(i) + "\", \"choices\": [\"x\", \"y\"], \"answer\": " +
                         std::to_string(i % 2) + "}")
                            .c_str()));
  }
  const auto docs = quiz_docs();
  const auto prepared = prepare_task(task, docs, train, {.num_fewshot = 2, .limit = 3, .seed = 7});
  CHECK(prepared.num_fewshot == 2);
  // r = random.Random(7); [r.sample(range(6), 2) for _ in range(3)]
  const std::vector<std::vector<std::size_t>> shots = {{2, 1}, {3, 0}, {0, 4}};
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    CHECK(prepared.docs[i].prompt == quiz_shot(train[shots[i][0]]) + quiz_shot(train[shots[i][1]]) + quiz_text(docs[i]));
  }
}

TEST_CASE("description rendered with the document; custom delimiters; a text target") {
  task_config task;
  task.task = "capitals";
  task.description = "Questions about {{topic}}.\n\n";
  task.doc_to_text = "Q: {{q}}";
  task.doc_to_target = "{{a}}";
  task.doc_to_choice = R"(["Paris", "Rome", "Oslo"])";  // a YAML list
  task.target_delimiter = " => ";
  task.fewshot_delimiter = "\n###\n";
  task.fewshot_sampler = "first_n";
  task.num_fewshot = 1;
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "acc"}};
  const std::vector<document> test = {doc(R"({"topic": "Italy", "q": "Capital of Italy?", "a": "Rome"})")};
  const std::vector<document> shots = {doc(R"({"topic": "France", "q": "Capital of France?", "a": "Paris"})")};
  const auto prepared = prepare_task(task, test, shots, {});
  const auto& d = prepared.docs.at(0);
  CHECK(d.prompt == "Questions about Italy.\n\nQ: Capital of France? => Paris\n###\nQ: Capital of Italy?");
  CHECK(d.target.as_string() == "Rome");
  REQUIRE(d.requests.size() == 3);
  CHECK(ll(d.requests[1]).continuation == " => Rome");
}

TEST_CASE("doc_to_choice as a template printing a list; a rendered digit target is an index") {
  task_config task;
  task.task = "rendered";
  task.doc_to_text = "{{q}}";
  task.doc_to_choice = "{{options}}";
  task.doc_to_target = "{{label}}";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "acc"}};
  const std::vector<document> test = {doc(R"({"q": "Pick", "options": ["it's", "b \"c\""], "label": 1})")};
  const auto prepared = prepare_task(task, test, {}, {});
  const auto& d = prepared.docs.at(0);
  CHECK(d.choices == std::vector<std::string>{"it's", "b \"c\""});
  CHECK(d.target.as_int64() == 1);
}

TEST_CASE("generate_until: until defaults to the few-shot delimiter; kwargs in the arguments") {
  task_config task;
  task.task = "arith";
  task.output = output_type::generate_until;
  task.doc_to_text = "Q: {{q}}\nA:";
  task.doc_to_target = "a";
  task.generation.max_gen_toks = 32;
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "exact_match"}};
  const auto prepared = prepare_task(task, {doc(R"({"q": "1+1", "a": "2"})")}, {}, {});
  const auto& d = prepared.docs.at(0);
  const auto& g = std::get<generate_until_request>(d.requests.at(0).args);
  CHECK(g.context == "Q: 1+1\nA:");
  CHECK(g.until == std::vector<std::string>{"\n\n"});
  CHECK(g.max_tokens == 32);
  CHECK(g.temperature == 0.0);
  CHECK(d.arguments.at("gen_args_0").at("arg_1").at("until").as_array().at(0).as_string() == "\n\n");
  CHECK(d.target_hash == "d4735e3a265e16eee03f59718b9b5d03019c07d8b6c51f90da3a666eec13ab35");  // sha256("2")
}

TEST_CASE("loglikelihood and loglikelihood_rolling requests") {
  task_config task;
  task.task = "lambada";
  task.output = output_type::loglikelihood;
  task.doc_to_text = "{{context}}";
  task.doc_to_target = " {{word}}";
  task.filters = {{"none", {}}};
  task.metrics = {{.metric = "perplexity"}, {.metric = "acc"}};
  const std::vector<document> test = {doc(R"({"context": "The cat sat on the", "word": "mat"})")};
  auto prepared = prepare_task(task, test, {}, {});
  CHECK(ll(prepared.docs.at(0).requests.at(0)).context == "The cat sat on the");
  CHECK(ll(prepared.docs.at(0).requests.at(0)).continuation == " mat");

  task.output = output_type::loglikelihood_rolling;
  task.doc_to_target = "page";
  prepared = prepare_task(task, {doc(R"({"context": "", "page": "Some text here."})")}, {}, {});
  const auto& d = prepared.docs.at(0);
  CHECK(std::get<rolling_request>(d.requests.at(0).args).text == "Some text here.");
  CHECK(d.arguments.at("gen_args_0").as_object().size() == 1);
}
