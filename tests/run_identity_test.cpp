// A run is its whole recipe: a run directory trained with another value of any option of the
// option table is never reused, extended or averaged by `sweep` or `compare` (run_reuse.hpp),
// and config.json holds each setting in its shortest exact form.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "../src/cli/commands.hpp"
#include "../src/cli/run_reuse.hpp"

namespace fs = std::filesystem;
using namespace normlab;
using namespace normlab::cli;
using nlohmann::json;

namespace {

TrainConfig parse(const std::vector<std::string>& args) {
  CLI::App app;
  RecipeOptions options;
  options.add_to(app);
  app.parse(std::vector<std::string>(args.rbegin(), args.rend()));  // CLI11 takes them reversed
  return options.apply(app);
}

// A finished run of `config` in `dir`, as a run directory records it.
void write_finished_run(const fs::path& dir, TrainConfig config) {
  fs::create_directories(dir);
  config.out_dir = dir.string();
  std::ofstream(dir / "config.json") << json(config).dump(2);
  std::ofstream(dir / "summary.json") << R"({"status": "finished"})";
}

class RunIdentity : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("normlab_run_identity_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// One case per option: the recipe a run was trained with, the one asked for now, and the
// option the refusal must name ("" where the change must not matter: the data directory).
struct Case {
  std::vector<std::string> trained, asked;
  std::string named;
};

const std::map<std::string, Case>& cases() {
  static const std::map<std::string, Case> all = {
      {"--net", {{}, {"--net", "s8"}, "--net"}},
      {"--norm", {{}, {"--norm", "group"}, "--norm"}},
      {"--epochs", {{}, {"--epochs", "5"}, "--epochs"}},
      {"--seed", {{}, {"--seed", "2"}, "--seed"}},
      {"--threads", {{"--threads", "2"}, {"--threads", "1"}, ""}},  // the same bits for any count
      {"--unfused", {{}, {"--unfused"}, ""}},  // the same bits as the fused executor
      {"--batch-size", {{}, {"--batch-size", "64"}, "--batch-size"}},
      {"--norm-batch", {{}, {"--norm-batch", "32"}, "--norm-batch"}},
      // 0 is the whole batch, and GroupNorm has no batch statistics: the same computations.
      {"--norm-batch (the whole batch)", {{}, {"--norm-batch", "128"}, ""}},
      {"--norm-batch (GroupNorm)", {{"--norm", "group"}, {"--norm", "group", "--norm-batch", "32"}, ""}},
      {"--groups", {{"--norm", "group"}, {"--norm", "group", "--groups", "8"}, "--groups 8 (the run has 4)"}},
      {"--init", {{}, {"--init", "he"}, "--init he (the run has default)"}},
      {"--conv", {{}, {"--conv", "winograd"}, "--conv"}},
      {"--precision", {{}, {"--precision", "bf16"}, "--precision"}},
      {"--lr", {{}, {"--lr", "0.02"}, "--lr 0.02 (the run has 0.01)"}},
      {"--momentum", {{}, {"--momentum", "0.5"}, "--momentum 0.5 (the run has 0.9)"}},
      {"--nesterov", {{}, {"--nesterov"}, "--nesterov (the run has --no-nesterov)"}},
      {"--no-nesterov", {{"--net", "s8"}, {"--net", "s8", "--no-nesterov"}, "--no-nesterov"}},
      {"--weight-decay", {{}, {"--weight-decay", "0.001"}, "--weight-decay 0.001 (the run has 0)"}},
      {"--decay-norms", {{}, {"--decay-norms"}, "--decay-norms"}},
      {"--schedule", {{}, {"--schedule", "cosine"}, "--schedule cosine (the run has constant)"}},
      {"--label-smoothing", {{}, {"--label-smoothing", "0.1"}, "--label-smoothing"}},
      {"--no-flip", {{}, {"--no-flip"}, "--no-flip"}},
      {"--no-crop", {{}, {"--no-crop"}, "--no-crop"}},
      {"--crop-padding", {{}, {"--crop-padding", "2"}, "--crop-padding"}},
      {"--jitter", {{}, {"--jitter", "0.1"}, "--jitter 0.1 (the run has 0.2)"}},
      {"--no-jitter", {{}, {"--no-jitter"}, "--jitter 0 (the run has 0.2)"}},
      {"--cutout", {{}, {"--cutout"}, "--cutout"}},
      {"--no-cutout", {{"--cutout"}, {"--no-cutout"}, "--no-cutout"}},
      {"--cutout-size", {{}, {"--cutout-size", "4"}, "--cutout-size"}},
      {"--tta", {{}, {"--tta"}, "--tta"}},
      {"--no-tta", {{"--net", "s8"}, {"--net", "s8", "--no-tta"}, "--no-tta"}},
      {"--limit", {{}, {"--limit", "1000"}, "--limit 1000 (the run has 0)"}},
      {"--holdout", {{}, {"--holdout", "5000"}, "--holdout 5000 (the run has 0)"}},
      {"--landscape-every", {{}, {"--landscape-every", "10"}, "--landscape-every 10 (the run has 0)"}},
      {"--data", {{"--data", "/a"}, {"--data", "/b"}, ""}},
  };
  return all;
}

TEST_F(RunIdentity, EveryOptionOfTheTableHasACaseHere) {
  for (const std::string& flag : recipe_option_flags())
    EXPECT_TRUE(cases().count(flag)) << flag << " is in the option table but not in this test";
}

TEST_F(RunIdentity, ARunOfAnotherValueOfAnyOptionIsRefusedNamingIt) {
  for (const auto& [flag, c] : cases()) {
    SCOPED_TRACE(flag);
    const fs::path run = dir_ / flag.substr(2);
    write_finished_run(run, parse(c.trained));
    TrainConfig asked = parse(c.asked);
    asked.out_dir = run.string();
    const RunCheck check = check_planned_run(asked);
    if (c.named.empty()) {
      EXPECT_EQ(check.action, RunAction::finished) << check.mismatch;
    } else {
      EXPECT_EQ(check.action, RunAction::mismatch);
      EXPECT_NE(check.mismatch.find(c.named), std::string::npos) << check.mismatch;
      EXPECT_NE(run_state_text(check, asked.epochs).find(c.named), std::string::npos);
    }
  }
}

TEST_F(RunIdentity, TheSameRecipeIsReusedAndAShortConstantRunIsExtended) {
  const TrainConfig recipe = parse({"--epochs", "5"});
  write_finished_run(dir_, recipe);
  TrainConfig asked = recipe;
  asked.out_dir = dir_.string();
  EXPECT_EQ(check_planned_run(asked).action, RunAction::finished);
  asked.epochs = 20;  // the constant schedule lets a finished 5-epoch run go on to 20
  const RunCheck longer = check_planned_run(asked);
  EXPECT_EQ(longer.action, RunAction::resume);
  EXPECT_EQ(run_state_text(longer, 20), "finished 5 of 20 epochs");
}

TEST_F(RunIdentity, AScheduleThatDependsOnTheLengthCannotBeExtended) {
  const TrainConfig recipe = parse({"--net", "s8", "--epochs", "5"});  // one-cycle
  write_finished_run(dir_, recipe);
  TrainConfig asked = recipe;
  asked.out_dir = dir_.string();
  asked.epochs = 20;
  const RunCheck check = check_planned_run(asked);
  EXPECT_EQ(check.action, RunAction::mismatch);
  EXPECT_NE(check.mismatch.find("one-cycle schedule cannot be extended"), std::string::npos) << check.mismatch;
}

TEST_F(RunIdentity, NoDirectoryMeansStart) {
  TrainConfig asked = parse({});
  asked.out_dir = (dir_ / "none").string();
  EXPECT_EQ(check_planned_run(asked).action, RunAction::start);
  EXPECT_EQ(run_state_text(check_planned_run(asked), 20), "not started");
}

TEST(ConfigJson, HoldsFloatsInTheirShortestExactForm) {
  const std::string seed = json(seed_recipe()).dump();
  EXPECT_NE(seed.find(R"("learning_rate":0.01,)"), std::string::npos) << seed;
  EXPECT_NE(seed.find(R"("brightness":0.2,)"), std::string::npos) << seed;
  const std::string s8 = json(s8_recipe()).dump();
  EXPECT_NE(s8.find(R"("weight_decay":0.0005})"), std::string::npos) << s8;
}

TEST(ConfigJson, EveryFloatReadsBackToTheSameBits) {
  std::mt19937 random(7);
  std::uniform_int_distribution<std::uint32_t> bits;
  TrainConfig c;
  int checked = 0;
  for (int i = 0; i < 50'000; ++i) {
    const float value = std::bit_cast<float>(bits(random));
    if (!std::isfinite(value)) continue;
    c.learning_rate = value;
    const TrainConfig back = json::parse(json(c).dump()).get<TrainConfig>();
    ASSERT_EQ(std::bit_cast<std::uint32_t>(back.learning_rate), std::bit_cast<std::uint32_t>(value))
        << value;
    ++checked;
  }
  EXPECT_GT(checked, 45'000);
}

}  // namespace
