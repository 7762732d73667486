// The shipped suites on the real C-Eval, CMMLU, MMLU and GSM8K files the
// tests carry (and format samples of ARC and HellaSwag): for two documents of
// each, the exact prompt (description, shots, delimiters, question) equals a
// golden written from lm-evaluation-harness's documented format —
// description + (shot text + target_delimiter + shot target + fewshot_delimiter)
// for each shot + the document's text — built from the data files by a
// separate script, not by this code.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "harness/eval/suite_loader.hpp"
#include "harness/eval/task.hpp"

namespace eval = huashan::harness::eval;

namespace {

struct golden {
  const char* task;
  int shots;
  const char* data_subdir;  // under tests/data/datasets
  int doc;
  const char* prompt;
  std::optional<std::string> first_continuation;  // multiple choice: target_delimiter + the first choice
};

const golden goldens[] = {
    {"ceval-valid_computer_network", 2, "", 0, R"golden(以下是中国关于计算机网络的单项选择题，请选出其中的正确答案。

下列设备属于资源子网的是____。
A. 计算机软件
B. 网桥
C. 交换机
D. 路由器
答案： A

滑动窗口的作用是____。
A. 流量控制
B. 拥塞控制
C. 路由控制
D. 差错控制
答案： A

使用位填充方法，以01111110为位首flag，数据为011011111111111111110010，求问传送时要添加几个0____
A. 1
B. 2
C. 3
D. 4
答案：)golden", std::optional<std::string>(R"golden( A)golden")},
    {"ceval-valid_computer_network", 2, "", 1, R"golden(以下是中国关于计算机网络的单项选择题，请选出其中的正确答案。

下列设备属于资源子网的是____。
A. 计算机软件
B. 网桥
C. 交换机
D. 路由器
答案： A

滑动窗口的作用是____。
A. 流量控制
B. 拥塞控制
C. 路由控制
D. 差错控制
答案： A

在802.3标准中，发送帧之前需要____
A. 等待冲突
B. 等待令牌
C. 监听介质
D. 接受一个帧
答案：)golden", std::optional<std::string>(R"golden( A)golden")},
    {"cmmlu_computer_science", 2, "", 0, R"golden(以下是关于计算机科学的单项选择题，请直接给出正确答案的选项。

关系数据库中的数据逻辑结构是
A. 树形结构
B. ⼆维表格
C. 层次结构
D. ⽹状结构
答案： B

下⾯属于端系统之间的协议是
A. ARP 
B. IP
C. TCP
D. PPP
答案： C

⽤⼀个字节最多能编出（ ）不同的码
A. 128个
B. 256个
C. 16个
D. 8个
答案：)golden", std::optional<std::string>(R"golden( A)golden")},
    {"cmmlu_computer_science", 2, "", 1, R"golden(以下是关于计算机科学的单项选择题，请直接给出正确答案的选项。

关系数据库中的数据逻辑结构是
A. 树形结构
B. ⼆维表格
C. 层次结构
D. ⽹状结构
答案： B

下⾯属于端系统之间的协议是
A. ARP 
B. IP
C. TCP
D. PPP
答案： C

通常以太⽹采⽤了（ ）协议以⽀持总线型的结构
A. 环型
B. 载波侦听与冲突检测CSMA/CD
C. 令牌环
D. 总线型
答案：)golden", std::optional<std::string>(R"golden( A)golden")},
    {"mmlu_abstract_algebra", 2, "", 0, R"golden(The following are multiple choice questions (with answers) about abstract algebra.

Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.
A. 0
B. 1
C. 2
D. 3
Answer: B

Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. Statement 2 | If H and K are subgroups of G then HK is a subgroup of G.
A. True, True
B. False, False
C. True, False
D. False, True
Answer: B

Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.
A. 0
B. 4
C. 2
D. 6
Answer:)golden", std::optional<std::string>(R"golden( A)golden")},
    {"mmlu_abstract_algebra", 2, "", 1, R"golden(The following are multiple choice questions (with answers) about abstract algebra.

Find all c in Z_3 such that Z_3[x]/(x^2 + c) is a field.
A. 0
B. 1
C. 2
D. 3
Answer: B

Statement 1 | If aH is an element of a factor group, then |aH| divides |a|. Statement 2 | If H and K are subgroups of G then HK is a subgroup of G.
A. True, True
B. False, False
C. True, False
D. False, True
Answer: B

Let p = (1, 2, 5, 4)(2, 3) in S_5 . Find the index of <p> in S_5.
A. 8
B. 2
C. 24
D. 120
Answer:)golden", std::optional<std::string>(R"golden( A)golden")},
    {"gsm8k_cot", 8, "", 0, R"golden(Q: There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?
A: There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.

Q: If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?
A: There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5.

Q: Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?
A: Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. The answer is 39.

Q: Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did Jason give to Denny?
A: Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. The answer is 8.

Q: Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?
A: Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. The answer is 9.

Q: There were nine computers in the server room. Five more computers were installed each day, from monday to thursday. How many computers are now in the server room?
A: There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 computers were added. 9 + 20 is 29. The answer is 29.

Q: Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf balls did he have at the end of wednesday?
A: Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls. The answer is 33.

Q: Olivia has $23. She bought five bagels for $3 each. How much money does she have left?
A: Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. The answer is 8.

Q: Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?
A:)golden", std::nullopt},
    {"gsm8k_cot", 8, "", 1, R"golden(Q: There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?
A: There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6.

Q: If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?
A: There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5.

Q: Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?
A: Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. The answer is 39.

Q: Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did Jason give to Denny?
A: Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. The answer is 8.

Q: Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?
A: Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. The answer is 9.

Q: There were nine computers in the server room. Five more computers were installed each day, from monday to thursday. How many computers are now in the server room?
A: There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 computers were added. 9 + 20 is 29. The answer is 29.

Q: Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf balls did he have at the end of wednesday?
A: Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls. The answer is 33.

Q: Olivia has $23. She bought five bagels for $3 each. How much money does she have left?
A: Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. The answer is 8.

Q: A robe takes 2 bolts of blue fiber and half that much white fiber.  How many bolts in total does it take?
A:)golden", std::nullopt},
    {"arc_easy", 0, "format_samples", 0, R"golden(Question: Which of these is a source of light?
Answer:)golden", std::optional<std::string>(R"golden( a mirror)golden")},
    {"arc_easy", 0, "format_samples", 1, R"golden(Question: A student puts ice in a warm room. What happens to the ice?
Answer:)golden", std::optional<std::string>(R"golden( It melts.)golden")},
    {"arc_challenge", 0, "format_samples", 0, R"golden(Question: Plants make food by using energy from which source?
Answer:)golden", std::optional<std::string>(R"golden( soil)golden")},
    {"arc_challenge", 0, "format_samples", 1, R"golden(Question: Which change is a chemical change?
Answer:)golden", std::optional<std::string>(R"golden( cutting paper)golden")},
    {"hellaswag", 0, "format_samples", 0, R"golden(Making tea: A man fills a kettle with water and sets it on the stove. He)golden", std::optional<std::string>(R"golden( throws the kettle out of the window.)golden")},
    {"hellaswag", 0, "format_samples", 1, R"golden(Home and Garden: How to water a houseplant. Check the soil. Push a finger into the soil if it is dry, the plant needs water.)golden", std::optional<std::string>(R"golden(  Pour water slowly around the base. Stop when water runs from the drain hole.)golden")},
    {"huashan-sample_en_mc", 0, "", 0, R"golden(The following are multiple choice questions (with answers) about general knowledge.

What is the largest planet in the Solar System?
A. Mars
B. Jupiter
C. Earth
D. Venus
Answer:)golden", std::optional<std::string>(R"golden( A)golden")},
    {"huashan-sample_en_mc", 0, "", 1, R"golden(The following are multiple choice questions (with answers) about general knowledge.

Which gas do plants take in from the air for photosynthesis?
A. Oxygen
B. Nitrogen
C. Carbon dioxide
D. Helium
Answer:)golden", std::optional<std::string>(R"golden( A)golden")},
    {"huashan-sample_word_problems", 3, "", 0, R"golden(Question: Lily has 4 bags with 6 marbles in each. She loses 3 marbles. How many marbles does she have left?
Answer: She had 4 * 6 = 24 marbles, and 24 - 3 = 21. The answer is 21.

Question: A ticket costs $7. How many dollars do 5 tickets cost?
Answer: Five tickets cost 5 * 7 = 35 dollars. The answer is 35.

Question: A road is 90 kilometres long. A cyclist has ridden 36 kilometres. How many kilometres are left?
Answer: There are 90 - 36 = 54 kilometres left. The answer is 54.

Question: Mia has 12 apples. She gives 5 to her brother and then buys 8 more. How many apples does she have now?
Answer:)golden", std::nullopt},
    {"huashan-sample_word_problems", 3, "", 1, R"golden(Question: Lily has 4 bags with 6 marbles in each. She loses 3 marbles. How many marbles does she have left?
Answer: She had 4 * 6 = 24 marbles, and 24 - 3 = 21. The answer is 21.

Question: A ticket costs $7. How many dollars do 5 tickets cost?
Answer: Five tickets cost 5 * 7 = 35 dollars. The answer is 35.

Question: A road is 90 kilometres long. A cyclist has ridden 36 kilometres. How many kilometres are left?
Answer: There are 90 - 36 = 54 kilometres left. The answer is 54.

Question: A train travels at 60 kilometres per hour for 3 hours. How many kilometres does it travel?
Answer:)golden", std::nullopt},
};

const std::filesystem::path benchmarks = std::filesystem::path(HUASHAN_SOURCE_DIR) / "benchmarks";
const std::filesystem::path datasets = std::filesystem::path(HUASHAN_TEST_DATA) / "datasets";

// A task's documents (its test split, else validation) and shots as the runner loads them, rendered.
eval::prepared_task prepare(const eval::task_config& task, const std::filesystem::path& data_dir, const eval::prepare_options& options) {
  const auto split = task.test_split.empty() ? task.validation_split : task.test_split;
  const auto docs = eval::load_split(task, split, data_dir);
  std::vector<eval::document> shots;
  if (options.num_fewshot.value_or(task.num_fewshot) > 0) shots = eval::load_split(task, task.fewshot_split, data_dir);
  return eval::prepare_task(task, docs, shots, options);
}

}  // namespace

TEST_CASE("two documents of every shipped suite render lm-evaluation-harness's exact prompts") {
  for (const auto& g : goldens) {
    CAPTURE(g.task);
    CAPTURE(g.doc);
    const auto suites = eval::load_suites({g.task}, {benchmarks});
    REQUIRE(suites.tasks.size() == 1);
    eval::prepare_options options;
    options.num_fewshot = g.shots;
    options.limit = 2;
    const auto prepared = prepare(suites.tasks.front(), datasets / g.data_subdir, options);
    REQUIRE(prepared.docs.size() == 2);
    const auto& doc = prepared.docs[static_cast<std::size_t>(g.doc)];
    CHECK(doc.prompt == g.prompt);
    REQUIRE_FALSE(doc.requests.empty());
    if (g.first_continuation) {
      const auto& first = std::get<huashan::harness::loglikelihood_request>(doc.requests.front().args);
      CHECK(first.context == g.prompt);
      CHECK(first.continuation == *g.first_continuation);
    } else {
      const auto& first = std::get<huashan::harness::generate_until_request>(doc.requests.front().args);
      CHECK(first.context == g.prompt);
    }
  }
}

TEST_CASE("every shipped suite with data in the tests renders every document") {
  // The files the tests carry, by suite: each must load, render and ask the
  // model something for every document (the model itself is the e2e tests').
  const std::filesystem::path benchmarks = std::filesystem::path(HUASHAN_SOURCE_DIR) / "benchmarks";
  const std::filesystem::path datasets = std::filesystem::path(HUASHAN_TEST_DATA) / "datasets";
  const std::pair<const char*, const char*> suites[] = {
      {"ceval-valid_computer_network", ""}, {"ceval-valid_logic", ""}, {"cmmlu_chinese_history", ""},
      {"mmlu_world_religions", ""},         {"gsm8k_cot", ""},         {"arc_easy", "format_samples"},
      {"arc_challenge", "format_samples"},  {"hellaswag", "format_samples"}, {"huashan-sample", ""}};
  for (const auto& [name, sub] : suites) {
    CAPTURE(name);
    const auto selection = eval::load_suites({name}, {benchmarks});
    REQUIRE_FALSE(selection.tasks.empty());
    for (const auto& task : selection.tasks) {
      CAPTURE(task.task);
      const auto prepared = prepare(task, datasets / sub, {});
      CHECK(prepared.docs.size() == static_cast<std::size_t>(prepared.n_original));
      CHECK_FALSE(prepared.docs.empty());
      for (const auto& d : prepared.docs) CHECK_FALSE(d.requests.empty());
      CHECK(prepared.prompts_hash.size() == 64);
    }
  }
}
