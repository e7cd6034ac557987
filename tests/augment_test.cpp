#include "normlab/data/augment.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <vector>

#include "normlab/base/random.hpp"

namespace normlab {
namespace {

constexpr int kPlane = kImageSide * kImageSide;

// Records with random pixels (never a flat image, so every transform is visible) and label i % 10.
struct SyntheticSet {
  std::vector<std::uint8_t> bytes;
  ImageSet set;

  explicit SyntheticSet(int count) : bytes(static_cast<std::size_t>(count) * kRecordBytes) {
    const RandomKey key(12345, static_cast<Purpose>(5));  // a purpose no product stream uses
    for (int i = 0; i < count; ++i) {
      std::uint8_t* record = bytes.data() + static_cast<std::size_t>(i) * kRecordBytes;
      record[0] = static_cast<std::uint8_t>(i % kClasses);
      for (int p = 0; p < kImageBytes; ++p)
        record[1 + p] = static_cast<std::uint8_t>(key.bits(static_cast<std::uint64_t>(i) * 4096 + p));
    }
    set = ImageSet{bytes.data(), count};
  }
};

const ChannelNormalisation kNorm;

float normalised(int c, float v) { return (v - kNorm.mean[c]) / kNorm.std[c]; }

// Pixel (c, y, x) of the image as ToTensor + Normalize would give it.
float plain(const std::uint8_t* pixels, int c, int y, int x) {
  return normalised(c, pixels[c * kPlane + y * kImageSide + x] / 255.0f);
}

float at(const float* image, int c, int y, int x) { return image[c * kPlane + y * kImageSide + x]; }

std::vector<int> iota(int n) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}

// One image through augment_image, for the tests of a single transform.
class AugmentImage : public ::testing::Test {
 protected:
  std::vector<float> augmented(const AugmentDraw& draw) const {
    std::vector<float> out(kImageBytes);
    augment_image(pixels, draw, kNorm, out.data());
    return out;
  }

  SyntheticSet data{1};
  const std::uint8_t* pixels = data.set.pixels(0);
};

AugmentOptions nothing_on() {
  AugmentOptions o;
  o.flip = o.crop = false;
  o.brightness = o.contrast = o.saturation = 0.0f;
  return o;
}

TEST(AssembleBatch, WithoutAugmentationWritesExactNormalisedPixelsAndLabels) {
  SyntheticSet data(6);
  const std::vector<int> indices = {5, 0, 3};
  std::vector<float> images(3 * kImageBytes);
  std::vector<int> labels(3);
  assemble_batch(data.set, indices.data(), 3, nullptr, kNorm, 1, 0, images.data(), labels.data());
  for (int j = 0; j < 3; ++j) {
    EXPECT_EQ(labels[j], indices[j] % kClasses);
    const std::uint8_t* pixels = data.set.pixels(indices[j]);
    const float* image = images.data() + j * kImageBytes;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < kImageSide; ++y)
        for (int x = 0; x < kImageSide; ++x)
          ASSERT_EQ(at(image, c, y, x), plain(pixels, c, y, x)) << j << " " << c << " " << y << " " << x;
  }
}

TEST(AssembleBatch, AugmentationWithEverythingOffEqualsEvaluation) {
  SyntheticSet data(4);
  const std::vector<int> indices = iota(4);
  const AugmentOptions off = nothing_on();
  std::vector<float> augmented(4 * kImageBytes), evaluated(4 * kImageBytes);
  std::vector<int> labels(4);
  assemble_batch(data.set, indices.data(), 4, &off, kNorm, 7, 3, augmented.data(), labels.data());
  assemble_batch(data.set, indices.data(), 4, nullptr, kNorm, 7, 3, evaluated.data(), labels.data());
  EXPECT_EQ(augmented, evaluated);
}

TEST(AssembleBatch, SameKeyGivesIdenticalBytesAndOtherEpochsOrSeedsDiffer) {
  SyntheticSet data(32);
  const std::vector<int> indices = iota(32);
  AugmentOptions options;
  options.cutout = true;
  auto run = [&](std::uint64_t seed, int epoch) {
    std::vector<float> images(32 * kImageBytes);
    std::vector<int> labels(32);
    assemble_batch(data.set, indices.data(), 32, &options, kNorm, seed, epoch, images.data(),
                   labels.data());
    return images;
  };
  const std::vector<float> a = run(42, 1);
  const std::vector<float> b = run(42, 1);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  EXPECT_NE(a, run(42, 2));
  EXPECT_NE(a, run(43, 1));
}

TEST(AssembleBatch, AnImageDependsOnlyOnItsOwnIndexNotItsSlotOrThreads) {
  SyntheticSet data(64);
  const AugmentOptions options;
  std::vector<int> forward = iota(64), backward(forward.rbegin(), forward.rend());
  std::vector<float> a(64 * kImageBytes), b(64 * kImageBytes);
  std::vector<int> labels(64);
  assemble_batch(data.set, forward.data(), 64, &options, kNorm, 9, 4, a.data(), labels.data());
  assemble_batch(data.set, backward.data(), 64, &options, kNorm, 9, 4, b.data(), labels.data());
  std::vector<float> serial(kImageBytes);
  for (int i = 0; i < 64; ++i) {
    augment_image(data.set.pixels(i), draw_augmentation(options, 9, 4, i), kNorm, serial.data());
    ASSERT_EQ(std::memcmp(a.data() + i * kImageBytes, serial.data(), kImageBytes * sizeof(float)), 0);
    ASSERT_EQ(std::memcmp(b.data() + (63 - i) * kImageBytes, serial.data(),
                          kImageBytes * sizeof(float)),
              0);
  }
}

TEST_F(AugmentImage, FlipIsAHorizontalMirror) {
  const std::vector<float> out = augmented({.flip = true});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kImageSide; ++y)
      for (int x = 0; x < kImageSide; ++x)
        ASSERT_EQ(at(out.data(), c, y, x), plain(pixels, c, y, kImageSide - 1 - x));
}

TEST_F(AugmentImage, CropShiftsTheImageAndPadsWithZeroPixels) {
  // torchvision's crop top = 1 and left = 6, with padding 4
  const std::vector<float> out = augmented({.shift_y = -3, .shift_x = 2});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kImageSide; ++y)
      for (int x = 0; x < kImageSide; ++x) {
        const int sy = y - 3, sx = x + 2;
        const bool inside = sy >= 0 && sy < kImageSide && sx >= 0 && sx < kImageSide;
        const float expected = inside ? plain(pixels, c, sy, sx) : normalised(c, 0.0f);
        ASSERT_EQ(at(out.data(), c, y, x), expected) << c << " " << y << " " << x;
      }
}

TEST_F(AugmentImage, FlipHappensBeforeCrop) {
  const std::vector<float> out = augmented({.flip = true, .shift_x = 1});
  // Output column x reads flipped column x + 1, i.e. original column 30 - x.
  EXPECT_EQ(at(out.data(), 0, 5, 0), plain(pixels, 0, 5, 30));
  EXPECT_EQ(at(out.data(), 0, 5, 31), normalised(0, 0.0f));
}

TEST_F(AugmentImage, BrightnessScalesAndClamps) {
  const std::vector<float> out = augmented({.brightness = 1.5f});
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < kPlane; ++i) {
      const float v = std::min(1.0f, pixels[c * kPlane + i] / 255.0f * 1.5f);
      ASSERT_FLOAT_EQ(out[c * kPlane + i], normalised(c, v));
    }
}

TEST_F(AugmentImage, ZeroContrastGivesTheGrayscaleMeanEverywhere) {
  const std::vector<float> out = augmented({.contrast = 0.0f});
  double sum = 0;
  for (int i = 0; i < kPlane; ++i)
    sum += (0.299 * pixels[i] + 0.587 * pixels[kPlane + i] + 0.114 * pixels[2 * kPlane + i]) /
           255.0;
  const float mean = static_cast<float>(sum / kPlane);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < kPlane; ++i) ASSERT_NEAR(out[c * kPlane + i], normalised(c, mean), 1e-4);
}

TEST_F(AugmentImage, ZeroSaturationGivesEqualChannels) {
  const std::vector<float> out = augmented({.saturation = 0.0f});
  for (int i = 0; i < kPlane; ++i) {
    const float r = out[i] * kNorm.std[0] + kNorm.mean[0];
    const float g = out[kPlane + i] * kNorm.std[1] + kNorm.mean[1];
    const float b = out[2 * kPlane + i] * kNorm.std[2] + kNorm.mean[2];
    ASSERT_NEAR(r, g, 1e-5);
    ASSERT_NEAR(g, b, 1e-5);
  }
}

TEST_F(AugmentImage, CutoutZeroesAClippedSquareAfterNormalisation) {
  // Rows 0..4 (the square's top 3 rows fall outside), columns 26..31.
  const std::vector<float> out =
      augmented({.cutout = true, .cutout_y = 1, .cutout_x = 30, .cutout_size = 8});
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < kImageSide; ++y)
      for (int x = 0; x < kImageSide; ++x) {
        const bool cut = y <= 4 && x >= 26;
        ASSERT_EQ(at(out.data(), c, y, x) == 0.0f, cut) << c << " " << y << " " << x;
      }
}

TEST(AssembleBatch, JitteredValuesStayWithinTheNormalisedUnitRange) {
  SyntheticSet data(256);
  const std::vector<int> indices = iota(256);
  AugmentOptions strong;
  strong.brightness = strong.contrast = strong.saturation = 0.9f;
  for (const AugmentOptions& options : {AugmentOptions{}, strong}) {
    std::vector<float> images(256 * kImageBytes);
    std::vector<int> labels(256);
    assemble_batch(data.set, indices.data(), 256, &options, kNorm, 5, 0, images.data(),
                   labels.data());
    for (int j = 0; j < 256; ++j)
      for (int c = 0; c < 3; ++c) {
        const float* plane = images.data() + j * kImageBytes + c * kPlane;
        const auto [low, high] = std::minmax_element(plane, plane + kPlane);
        ASSERT_GE(*low, normalised(c, 0.0f));
        ASSERT_LE(*high, normalised(c, 1.0f));
      }
  }
}

TEST(DrawAugmentation, FollowsTheTorchvisionDistributions) {
  const AugmentOptions options;
  constexpr int kDraws = 20000;
  int flips = 0;
  std::set<std::pair<int, int>> shifts;
  std::set<int> first_steps;
  for (int i = 0; i < kDraws; ++i) {
    const AugmentDraw d = draw_augmentation(options, 3, 1, i);
    flips += d.flip;
    ASSERT_GE(d.shift_y, -4);
    ASSERT_LE(d.shift_y, 4);
    ASSERT_GE(d.shift_x, -4);
    ASSERT_LE(d.shift_x, 4);
    shifts.insert({d.shift_y, d.shift_x});
    for (float f : {d.brightness, d.contrast, d.saturation}) {
      ASSERT_GE(f, 0.8f);
      ASSERT_LE(f, 1.2f);
    }
    first_steps.insert(static_cast<int>(d.jitter_order[0]));
    EXPECT_FALSE(d.cutout);
  }
  EXPECT_NEAR(flips / double(kDraws), 0.5, 0.02);
  EXPECT_EQ(shifts.size(), 81u);  // every offset in [0, 8] x [0, 8] of the padded image
  EXPECT_EQ(first_steps.size(), 3u);
}

TEST(DrawAugmentation, OptionsThatAreOffStayNeutral) {
  const AugmentDraw d = draw_augmentation(nothing_on(), 3, 1, 17);
  EXPECT_FALSE(d.flip);
  EXPECT_EQ(d.shift_y, 0);
  EXPECT_EQ(d.shift_x, 0);
  EXPECT_EQ(d.brightness, 1.0f);
  EXPECT_EQ(d.contrast, 1.0f);
  EXPECT_EQ(d.saturation, 1.0f);
}

TEST(ShuffledOrder, IsAPermutationThatDependsOnlyOnSeedAndEpoch) {
  constexpr int n = 1000;
  std::vector<int> a(n), b(n), c(n), d(n);
  shuffled_order(11, 0, n, a.data());
  shuffled_order(11, 0, n, b.data());
  shuffled_order(11, 1, n, c.data());
  shuffled_order(12, 0, n, d.data());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  EXPECT_NE(a, iota(n));
  std::vector<int> sorted = c;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, iota(n));
  sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, iota(n));
}

}  // namespace
}  // namespace normlab
