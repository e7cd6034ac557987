// The report library: pictures are real PNGs of the promised size and content, files round-trip,
// tables show the right numbers, failures name the file.
#include <cairo.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "io_test_support.hpp"
#include "normlab/base/error.hpp"
#include "normlab/report/comparison_table.hpp"
#include "normlab/report/confusion.hpp"
#include "normlab/report/curves.hpp"
#include "normlab/report/diagnostics_files.hpp"
#include "normlab/report/gallery.hpp"
#include "normlab/report/landscape_table.hpp"
#include "normlab/report/metrics_files.hpp"
#include "normlab/report/sweep_report.hpp"
#include "same_history.hpp"

namespace normlab {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kCifarClasses = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

// A fresh directory per test; NORMLAB_REPORT_KEEP=<dir> keeps the pictures there for viewing.
class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* keep = std::getenv("NORMLAB_REPORT_KEEP");
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (keep != nullptr) {
      dir_ = fs::path(keep) / info->name();
    } else {
      dir_ = fs::temp_directory_path() /
             ("normlab_report_test_" + std::to_string(::getpid()) + "_" + info->name());
    }
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    keep_ = keep != nullptr;
  }
  void TearDown() override {
    if (!keep_) fs::remove_all(dir_);
  }
  fs::path dir_;
  bool keep_ = false;
};

std::vector<EpochMetrics> example_history(int epochs, double offset = 0) {
  std::vector<EpochMetrics> history;
  for (int e = 1; e <= epochs; ++e) {
    EpochMetrics m;
    m.epoch = e;
    m.learning_rate = 0.05 * std::pow(0.8, e - 1);
    m.train_loss = 1.9 * std::exp(-0.25 * e) + 0.05 + offset / 100;
    m.train_accuracy = 99.0 - 60.0 * std::exp(-0.3 * e) + offset;
    m.test_loss = 1.7 * std::exp(-0.28 * e) + 0.12 + 0.002 * e;
    m.test_accuracy = 98.5 - 55.0 * std::exp(-0.35 * e) + offset + 0.3 * std::sin(e);
    m.seconds = 12.5 + 0.1 * e;
    history.push_back(m);
  }
  return history;
}

struct Png {
  int width = 0;
  int height = 0;
  std::vector<std::uint32_t> pixels;  // 0x00RRGGBB, row-major
  std::uint32_t at(int x, int y) const { return pixels[std::size_t(y) * width + x] & 0xFFFFFF; }
};

Png read_png(const fs::path& path) {
  cairo_surface_t* surface = cairo_image_surface_create_from_png(path.c_str());
  EXPECT_EQ(cairo_surface_status(surface), CAIRO_STATUS_SUCCESS) << path;
  Png png;
  if (cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS) {
    png.width = cairo_image_surface_get_width(surface);
    png.height = cairo_image_surface_get_height(surface);
    const int stride = cairo_image_surface_get_stride(surface);
    const unsigned char* data = cairo_image_surface_get_data(surface);
    for (int y = 0; y < png.height; ++y) {
      const auto* row = reinterpret_cast<const std::uint32_t*>(data + y * stride);
      png.pixels.insert(png.pixels.end(), row, row + png.width);
    }
  }
  cairo_surface_destroy(surface);
  return png;
}

std::size_t count_colour(const Png& png, std::uint32_t rgb) {
  std::size_t n = 0;
  for (int y = 0; y < png.height; ++y)
    for (int x = 0; x < png.width; ++x) n += png.at(x, y) == rgb;
  return n;
}

struct Box {
  int left = 1 << 30, top = 1 << 30, right = -1, bottom = -1;  // inclusive
  int width() const { return right - left + 1; }
  int height() const { return bottom - top + 1; }
};

Box bounding_box(const Png& png, std::uint32_t rgb) {
  Box box;
  for (int y = 0; y < png.height; ++y) {
    for (int x = 0; x < png.width; ++x) {
      if (png.at(x, y) != rgb) continue;
      box.left = std::min(box.left, x);
      box.right = std::max(box.right, x);
      box.top = std::min(box.top, y);
      box.bottom = std::max(box.bottom, y);
    }
  }
  return box;
}

std::vector<std::uint8_t> solid_image(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  std::vector<std::uint8_t> planar(3072);
  std::fill(planar.begin(), planar.begin() + 1024, r);
  std::fill(planar.begin() + 1024, planar.begin() + 2048, g);
  std::fill(planar.begin() + 2048, planar.end(), b);
  return planar;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path().filename());
  return files;
}

std::vector<std::int64_t> example_confusion() {
  std::vector<std::int64_t> counts(100);
  for (int actual = 0; actual < 10; ++actual) {
    for (int predicted = 0; predicted < 10; ++predicted) {
      counts[actual * 10 + predicted] =
          actual == predicted ? 900 + 9 * actual : (actual * 7 + predicted * 3) % 23;
    }
  }
  counts[3 * 10 + 5] = 142;  // cat taken for dog, as usual
  counts[5 * 10 + 3] = 95;
  return counts;
}

TEST_F(ReportTest, TrainingCurvesAreA1200By900PngAndPrintNothing) {
  const auto history = example_history(20);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  plot_training_curves(dir_ / "curves.png", history, "SeedNet<BatchNorm>, seed 1");
  plot_training_curves(dir_ / "curves_again.png", history, "second plot in the same process");
  EXPECT_EQ(testing::internal::GetCapturedStdout(), "");
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

  const Png png = read_png(dir_ / "curves.png");
  EXPECT_EQ(png.width, 1200);
  EXPECT_EQ(png.height, 900);
  EXPECT_EQ(png.at(2, 2), 0xFFFFFFu);  // white background
  EXPECT_GT(count_colour(png, 0x1F77B4), 100u);  // the train curves, in tab10 blue
  EXPECT_EQ(read_png(dir_ / "curves_again.png").width, 1200);
  EXPECT_EQ(files_in(dir_).size(), 2u);  // no temporary files left behind
}

TEST_F(ReportTest, TrainingCurvesSurviveADivergedLossAndOneEpoch) {
  auto history = example_history(5);
  history[2].train_loss = std::numeric_limits<double>::quiet_NaN();
  history[3].test_loss = std::numeric_limits<double>::infinity();
  plot_training_curves(dir_ / "diverged.png", history, "diverged");
  plot_training_curves(dir_ / "one.png", std::span(history).first(1), "one epoch");
  EXPECT_EQ(read_png(dir_ / "diverged.png").width, 1200);
  EXPECT_EQ(read_png(dir_ / "one.png").width, 1200);
}

TEST_F(ReportTest, TrainingCurvesRefuseNoEpochs) {
  EXPECT_THROW(plot_training_curves(dir_ / "empty.png", {}, "empty"), Error);
}

TEST_F(ReportTest, ComparisonIsAPngWithOneColourPerSeries) {
  std::vector<CurveSeries> series;
  const char* names[] = {"BatchNorm", "GroupNorm", "LayerNorm"};
  for (int i = 0; i < 3; ++i) {
    CurveSeries s{names[i], {}};
    for (const auto& m : example_history(20, -1.5 * i)) s.values.push_back(m.test_accuracy);
    series.push_back(s);
  }
  plot_comparison(dir_ / "comparison.png", series, "Test accuracy by normalisation",
                  "test accuracy (%)");
  const Png png = read_png(dir_ / "comparison.png");
  EXPECT_EQ(png.width, 1100);
  EXPECT_EQ(png.height, 750);
  for (std::uint32_t colour : {0x1F77B4u, 0xFF7F0Eu, 0x2CA02Cu}) {
    EXPECT_GT(count_colour(png, colour), 100u) << std::hex << colour;
  }
}

TEST_F(ReportTest, ComparisonRefusesNoValues) {
  std::vector<CurveSeries> series = {{"empty", {}}};
  EXPECT_THROW(plot_comparison(dir_ / "c.png", series, "t", "y"), Error);
}

TEST_F(ReportTest, GalleryShowsEachImageEnlargedFourTimes) {
  const auto red = solid_image(255, 0, 0);
  const auto blue = solid_image(0, 0, 255);
  auto dotted = solid_image(0, 0, 0);
  dotted[7 * 32 + 5] = 0;  // one green pixel at x=5, y=7 on black
  dotted[1024 + 7 * 32 + 5] = 255;
  const std::vector<GalleryImage> images = {
      {red.data(), 3, 5}, {blue.data(), 1, 9}, {dotted.data(), 0, 8}};
  draw_gallery(dir_ / "gallery.png", images, kCifarClasses, "Misclassified test images");

  const Png png = read_png(dir_ / "gallery.png");
  const Box red_box = bounding_box(png, 0xFF0000);
  EXPECT_EQ(red_box.width(), 128);
  EXPECT_EQ(red_box.height(), 128);
  EXPECT_EQ(count_colour(png, 0xFF0000), 128u * 128u);  // a solid block, nothing else pure red
  const Box blue_box = bounding_box(png, 0x0000FF);
  EXPECT_EQ(blue_box.width(), 128);
  EXPECT_EQ(blue_box.top, red_box.top);  // same row, to the right
  EXPECT_GT(blue_box.left, red_box.right);

  const Box green_box = bounding_box(png, 0x00FF00);
  EXPECT_EQ(green_box.width(), 4);
  EXPECT_EQ(green_box.height(), 4);
  const Box black_box = bounding_box(png, 0x000000);  // the dotted image's background
  EXPECT_EQ(green_box.left - black_box.left, 5 * 4);
  EXPECT_EQ(green_box.top - black_box.top, 7 * 4);
  // The caption sits above the image: some dark text pixels in the band above the red block.
  std::size_t caption_pixels = 0;
  for (int y = red_box.top - 22; y < red_box.top - 2; ++y)
    for (int x = red_box.left - 20; x < red_box.right + 20; ++x) caption_pixels += png.at(x, y) != 0xFFFFFF;
  EXPECT_GT(caption_pixels, 50u);
}

TEST_F(ReportTest, GalleryOfManyImagesAndOfNone) {
  std::vector<std::vector<std::uint8_t>> pictures;
  for (int i = 0; i < 24; ++i) {  // gradients, so the 4x blocks are visible when viewing the file
    std::vector<std::uint8_t> planar(3072);
    for (int p = 0; p < 1024; ++p) {
      planar[p] = static_cast<std::uint8_t>((p % 32) * 8);
      planar[1024 + p] = static_cast<std::uint8_t>((p / 32) * 8);
      planar[2048 + p] = static_cast<std::uint8_t>(i * 10);
    }
    pictures.push_back(planar);
  }
  std::vector<GalleryImage> images;
  for (int i = 0; i < 24; ++i) images.push_back({pictures[i].data(), i % 10, (i + 3) % 10});
  draw_gallery(dir_ / "many.png", images, kCifarClasses, "24 misclassified");
  const Png many = read_png(dir_ / "many.png");
  EXPECT_GT(many.width, 5 * 128);
  EXPECT_GT(many.height, 5 * 128);
  draw_gallery(dir_ / "none.png", {}, kCifarClasses, "no mistakes");
  EXPECT_GT(read_png(dir_ / "none.png").width, 0);
}

TEST_F(ReportTest, GalleryRefusesAClassOutsideTheNames) {
  const auto red = solid_image(255, 0, 0);
  const std::vector<GalleryImage> images = {{red.data(), 10, 1}};
  EXPECT_THROW(draw_gallery(dir_ / "bad.png", images, kCifarClasses, "t"), Error);
  EXPECT_FALSE(fs::exists(dir_ / "bad.png"));
}

TEST_F(ReportTest, ConfusionHeatMapIsAPng) {
  plot_confusion(dir_ / "confusion.png", example_confusion(), kCifarClasses,
                 "Confusion matrix, test set");
  const Png png = read_png(dir_ / "confusion.png");
  EXPECT_EQ(png.width, 1000);
  EXPECT_EQ(png.height, 1000);
  std::vector<std::int64_t> wrong_size(99);
  EXPECT_THROW(plot_confusion(dir_ / "bad.png", wrong_size, kCifarClasses, "t"), Error);
}

TEST_F(ReportTest, ConfusionCsvHasClassNamesAndCounts) {
  const std::vector<std::string> names = {"cat", "dog, big", "say \"hi\""};
  const std::vector<std::int64_t> counts = {5, 1, 0, 2, 7, 1, 0, 3, 9};
  write_confusion_csv(dir_ / "confusion.csv", counts, names);
  EXPECT_EQ(read_text(dir_ / "confusion.csv"),
            "actual\\predicted,cat,\"dog, big\",\"say \"\"hi\"\"\"\n"
            "cat,5,1,0\n"
            "\"dog, big\",2,7,1\n"
            "\"say \"\"hi\"\"\",0,3,9\n");
}

TEST_F(ReportTest, MetricsCsvHasTheHeaderAndExactNumbers) {
  const auto history = example_history(3);
  write_metrics_csv(dir_ / "metrics.csv", history);
  std::istringstream lines(read_text(dir_ / "metrics.csv"));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,seconds");
  for (const EpochMetrics& m : history) {
    ASSERT_TRUE(std::getline(lines, line));
    std::istringstream cells(line);
    std::string cell;
    std::vector<double> values;
    while (std::getline(cells, cell, ',')) values.push_back(std::strtod(cell.c_str(), nullptr));
    ASSERT_EQ(values.size(), 7u);
    EXPECT_EQ(values[0], m.epoch);
    EXPECT_EQ(values[1], m.learning_rate);
    EXPECT_EQ(values[2], m.train_loss);
    EXPECT_EQ(values[3], m.train_accuracy);
    EXPECT_EQ(values[4], m.test_loss);
    EXPECT_EQ(values[5], m.test_accuracy);
    EXPECT_EQ(values[6], m.seconds);
  }
  EXPECT_FALSE(std::getline(lines, line));
}

TEST_F(ReportTest, MetricsJsonRoundTripsExactly) {
  auto history = example_history(4);
  history[2].train_loss = std::numeric_limits<double>::quiet_NaN();  // diverged
  write_metrics_json(dir_ / "metrics.json", history);
  const auto back = read_metrics_json(dir_ / "metrics.json");
  expect_same_history(back, history);
  ASSERT_EQ(back.size(), history.size());
  for (std::size_t i = 0; i < history.size(); ++i) EXPECT_EQ(back[i].seconds, history[i].seconds);
  EXPECT_TRUE(std::isnan(back[2].train_loss));
  EXPECT_NE(read_text(dir_ / "metrics.json").find("\"test_accuracy\""), std::string::npos);
}

TEST_F(ReportTest, MetricsCsvReadsBackExactly) {
  auto history = example_history(4);
  history[1].test_loss = std::numeric_limits<double>::quiet_NaN();  // diverged
  write_metrics_csv(dir_ / "metrics.csv", history);
  const auto back = read_metrics_csv(dir_ / "metrics.csv");
  expect_same_history(back, history);
  ASSERT_EQ(back.size(), history.size());
  for (std::size_t i = 0; i < history.size(); ++i) EXPECT_EQ(back[i].seconds, history[i].seconds);
  EXPECT_TRUE(std::isnan(back[1].test_loss));
}

TEST_F(ReportTest, MalformedMetricsCsvThrowsNamingTheFileAndLine) {
  const std::string header = "epoch,learning_rate,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
  auto expect_error = [&](const std::string& name, const std::string& content, const std::string& what) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << content;
    expect_error_containing([&] { read_metrics_csv(path); }, path.string() + ": " + what);
  };
  expect_error("header.csv", "epoch,loss\n1,2\n", "line 1 is not the header");
  expect_error("short.csv", header + "1,0.1,2,3,4,5\n", "line 2 is not 7 numbers");
  expect_error("word.csv", header + "1,0.1,2,3,4,5,6\n2,0.1,fast,3,4,5,6\n", "line 3 is not 7 numbers");
  expect_error("long.csv", header + "1,0.1,2,3,4,5,6,7\n", "line 2 is not 7 numbers");
  EXPECT_THROW(read_metrics_csv(dir_ / "absent.csv"), Error);
}

TEST_F(ReportTest, MalformedMetricsJsonThrowsNamingTheFile) {
  auto expect_error = [&](const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << content;
    expect_error_containing([&] { read_metrics_json(path); }, path.string());
  };
  expect_error("syntax.json", "[{\"epoch\": 1,");
  expect_error("object.json", "{\"epoch\": 1}");
  expect_error("missing_key.json", "[{\"epoch\": 1, \"learning_rate\": 0.1}]");
  expect_error("wrong_type.json",
               "[{\"epoch\": 1, \"learning_rate\": \"fast\", \"train_loss\": 1, "
               "\"train_accuracy\": 1, \"test_loss\": 1, \"test_accuracy\": 1, \"seconds\": 1}]");
  EXPECT_THROW(read_metrics_json(dir_ / "absent.json"), Error);
}

// Two epochs of samples: the run's loss, and a per-layer quantity of three layers.
std::vector<DiagnosticsRow> example_diagnostics(const std::string& norm_prefix, double scale) {
  std::vector<DiagnosticsRow> rows;
  for (int epoch = 1; epoch <= 2; ++epoch)
    for (int step = 10; step <= 40; step += 10) {
      rows.push_back({epoch, step, "", "train_loss", scale * (3.0 - 0.1 * (epoch * 4 + step / 10))});
      for (int layer = 1; layer <= 3; ++layer)
        rows.push_back({epoch, step, norm_prefix + std::to_string(layer), "input_std", scale * layer * 0.1 + step * 1e-3});
    }
  return rows;
}

TEST_F(ReportTest, DiagnosticsCsvRoundTripsExactly) {
  auto rows = example_diagnostics("bn", 1.0 / 3.0);
  rows[1].value = std::numeric_limits<double>::quiet_NaN();  // a diverged sample
  write_diagnostics_csv(dir_ / "diagnostics.csv", rows);
  const auto back = read_diagnostics_csv(dir_ / "diagnostics.csv");
  ASSERT_EQ(back.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(back[i].epoch, rows[i].epoch);
    EXPECT_EQ(back[i].step, rows[i].step);
    EXPECT_EQ(back[i].layer, rows[i].layer);
    EXPECT_EQ(back[i].quantity, rows[i].quantity);
    if (i == 1) EXPECT_TRUE(std::isnan(back[i].value));
    else EXPECT_EQ(back[i].value, rows[i].value) << i;
  }
}

TEST_F(ReportTest, MalformedDiagnosticsCsvThrowsNamingTheFileAndLine) {
  auto expect_error = [&](const std::string& name, const std::string& content, const std::string& what) {
    const fs::path path = dir_ / name;
    std::ofstream(path) << content;
    expect_error_containing([&] { read_diagnostics_csv(path); }, path.string() + ": " + what);
  };
  const std::string header = "epoch,step,layer,quantity,value\n";
  expect_error("header.csv", "epoch,step\n1,1,,train_loss,2\n", "not a diagnostics file");
  expect_error("short.csv", header + "1,1,,train_loss,2\n1,2,bn1\n", "line 3 is not");
  expect_error("number.csv", header + "1,1,,train_loss,fast\n", "line 2 is not");
  expect_error("epoch.csv", header + "0,1,,train_loss,2\n", "line 2 is not");
  EXPECT_THROW(read_diagnostics_csv(dir_ / "absent.csv"), Error);
}

TEST_F(ReportTest, DiagnosticsBySettingDrawOneColourPerSetting) {
  // bn2 and gn2 are the same place of two networks: one panel holds both settings' lines.
  const std::vector<SettingDiagnostics> settings = {
      {"BatchNorm", {example_diagnostics("bn", 1.0), example_diagnostics("bn", 1.1)}},
      {"GroupNorm", {example_diagnostics("gn", 2.0)}},
  };
  plot_diagnostics_by_setting(dir_ / "by-setting.png", settings, "diagnostics by setting");
  const Png png = read_png(dir_ / "by-setting.png");
  EXPECT_EQ(png.width, 1200);
  for (std::uint32_t colour : {0x1F77B4u, 0xFF7F0Eu}) EXPECT_GT(count_colour(png, colour), 100u) << std::hex << colour;
  const std::vector<SettingDiagnostics> none = {{"BatchNorm", {}}, {"GroupNorm", {}}};
  EXPECT_THROW(plot_diagnostics_by_setting(dir_ / "none.png", none, "t"), Error);
  EXPECT_FALSE(fs::exists(dir_ / "none.png"));
}

TEST(MeanStd, MeanAndSampleStandardDeviation) {
  const std::vector<double> values = {2, 4, 4, 4, 5, 5, 7, 9};
  const MeanStd s = mean_std(values);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(32.0 / 7.0));  // n - 1 in the denominator
  const std::vector<double> one = {3.5};
  EXPECT_DOUBLE_EQ(mean_std(one).mean, 3.5);
  EXPECT_EQ(mean_std(one).std, 0.0);
  EXPECT_THROW(mean_std({}), Error);
}

std::vector<EpochMetrics> run_with(std::vector<double> train, std::vector<double> test,
                                   double seconds) {
  std::vector<EpochMetrics> run;
  for (std::size_t i = 0; i < train.size(); ++i) {
    EpochMetrics m;
    m.epoch = static_cast<int>(i + 1);
    m.train_accuracy = train[i];
    m.test_accuracy = test[i];
    m.seconds = seconds;
    run.push_back(m);
  }
  return run;
}

TEST(ComparisonTable, OneRunShowsPlainValues) {
  const std::vector<RunGroup> groups = {
      {"BatchNorm", 48'816, {run_with({80, 95, 94}, {85, 99.4, 99.1}, 12.34)}, {}}};
  EXPECT_EQ(comparison_table_markdown(groups),
            "| norm | parameters | final train acc | best train acc | final test acc | best test "
            "acc | s/epoch |\n"
            "|---|---:|---:|---:|---:|---:|---:|\n"
            "| BatchNorm | 48816 | 94.00 | 95.00 | 99.10 | 99.40 | 12.3 |\n");
}

TEST(ComparisonTable, ThreeRunsShowMeanAndStd) {
  const std::vector<RunGroup> groups = {
      {"GroupNorm",
       48'900,
       {run_with({90, 96}, {97, 98}, 10), run_with({90, 97}, {97, 99}, 11),
        run_with({90, 98}, {97, 100}, 12)},
       {}},
      {"LayerNorm", 49'000, {}, {}}};
  const std::string table = comparison_table_markdown(groups);
  EXPECT_NE(table.find("| GroupNorm | 48900 | 97.00 ± 1.00 | 97.00 ± 1.00 | 99.00 ± 1.00 | "
                       "99.00 ± 1.00 | 11.0 ± 1.0 |\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| LayerNorm | 49000 | n/a | n/a | n/a | n/a | n/a |\n"), std::string::npos)
      << table;
}

TEST_F(ReportTest, UnwritableDestinationsThrowNamingThePath) {
  const fs::path missing_dir = dir_ / "no_such_dir";
  const auto history = example_history(3);
  auto expect_names_path = [](const fs::path& path, auto&& write) {
    expect_error_containing([&] { write(path); }, path.string());
  };
  expect_names_path(missing_dir / "curves.png",
                    [&](const fs::path& p) { plot_training_curves(p, history, "t"); });
  expect_names_path(missing_dir / "metrics.csv",
                    [&](const fs::path& p) { write_metrics_csv(p, history); });
  expect_names_path(missing_dir / "metrics.json",
                    [&](const fs::path& p) { write_metrics_json(p, history); });
  expect_names_path(missing_dir / "confusion.png", [&](const fs::path& p) {
    plot_confusion(p, example_confusion(), kCifarClasses, "t");
  });
  const auto red = solid_image(255, 0, 0);
  const std::vector<GalleryImage> images = {{red.data(), 1, 2}};
  expect_names_path(missing_dir / "gallery.png",
                    [&](const fs::path& p) { draw_gallery(p, images, kCifarClasses, "t"); });

  // A directory standing where the file should go cannot be replaced either.
  fs::create_directories(dir_ / "occupied.csv");
  expect_names_path(dir_ / "occupied.csv",
                    [&](const fs::path& p) { write_metrics_csv(p, history); });
  EXPECT_EQ(files_in(dir_).size(), 1u);  // only the directory: no temporary files left
}

TEST_F(ReportTest, ReplacingAFileLeavesOnlyTheNewContent) {
  write_metrics_csv(dir_ / "m.csv", example_history(5));
  write_metrics_csv(dir_ / "m.csv", example_history(2));
  std::istringstream lines(read_text(dir_ / "m.csv"));
  int count = 0;
  for (std::string line; std::getline(lines, line);) ++count;
  EXPECT_EQ(count, 3);
  EXPECT_EQ(files_in(dir_).size(), 1u);
}

}  // namespace
}  // namespace normlab

// ---- The landscape table of sweep reports -------------------------------------------------

namespace {
std::vector<normlab::DiagnosticsRow> landscape_run(std::initializer_list<double> smoothness) {
  std::vector<normlab::DiagnosticsRow> rows;
  int step = 0;
  for (double v : smoothness) {
    ++step;
    rows.push_back({1, step, "", "train_loss", 2.0});
    rows.push_back({1, step, "", "landscape_loss_range", 0.5});
    rows.push_back({1, step, "", "landscape_gradient_change", 2 * v});
    rows.push_back({1, step, "", "landscape_smoothness", v});
  }
  return rows;
}
}  // namespace

TEST(LandscapeTable, MediansOfEachRunThenMeanAndStdOverRuns) {
  // Medians 3 (of 1, 3, 100) and 5 (of 4, 6): mean 4, std sqrt(2).
  std::vector<normlab::SettingDiagnostics> settings{
      {"BatchNorm", {landscape_run({1, 100, 3}), landscape_run({4, 6})}},
      {"no norm", {landscape_run({7})}},
      {"LayerNorm", {{{1, 1, "", "train_loss", 2.0}}}},  // no landscape rows: no line
  };
  const std::string table = normlab::landscape_table(settings);
  EXPECT_NE(table.find("| BatchNorm | 2 | 0.5 ± 0 | 8 ± 2.8 | 4 ± 1.4 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| no norm | 1 | 0.5 | 14 | 7 |"), std::string::npos) << table;
  EXPECT_EQ(table.find("LayerNorm"), std::string::npos) << table;
}

TEST(LandscapeTable, EmptyWithoutLandscapeRows) {
  std::vector<normlab::SettingDiagnostics> settings{{"BatchNorm", {{{1, 1, "bn1", "input_std", 1.0}}}}};
  EXPECT_EQ(normlab::landscape_table(settings), "");
}
