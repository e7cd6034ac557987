// What the file-format tests (.npy, weights directory, atomic files, checkpoints, the report's
// metrics files) share: a scratch directory per test, a check that an action fails with a
// one-line error naming the problem, and text as bytes.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "normlab/base/error.hpp"

namespace normlab {

inline std::vector<std::byte> bytes_of(const std::string& text) {
  const auto bytes = std::as_bytes(std::span(text.data(), text.size()));
  return {bytes.begin(), bytes.end()};
}

// Runs `action`, expects a normlab::Error, and checks its message holds `fragment`.
template <class Action>
void expect_error_containing(Action action, const std::string& fragment) {
  try {
    action();
    ADD_FAILURE() << "no error thrown; expected one containing: " << fragment;
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
        << "message: " << error.what() << "\nexpected to contain: " << fragment;
    EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos) << "not one line";
  }
}

// A fresh, empty directory per test (root_), removed after it.
class ScratchDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "normlab-";
    name += test->test_suite_name();
    name += "-test-" + std::to_string(::getpid()) + "-" + test->name();
    root_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

}  // namespace normlab
