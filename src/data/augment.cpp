// Batch assembly with torchvision-equivalent augmentation, one image at a time in a stack buffer.
#include "normlab/data/augment.hpp"

#include <algorithm>
#include <utility>

#include "normlab/base/random.hpp"

namespace normlab {

namespace {

constexpr int kPlane = kImageSide * kImageSide;

// Which counter of an image's key feeds which choice. Changing these changes every run's data.
enum Counter : std::uint64_t {
  kFlip = 0,
  kShiftY = 1,
  kShiftX = 2,
  kJitterOrder = 3,
  kBrightness = 4,
  kContrast = 5,
  kSaturation = 6,
  kCutoutY = 7,
  kCutoutX = 8,
};

constexpr Jitter kJitterOrders[6][3] = {
    {Jitter::brightness, Jitter::contrast, Jitter::saturation},
    {Jitter::brightness, Jitter::saturation, Jitter::contrast},
    {Jitter::contrast, Jitter::brightness, Jitter::saturation},
    {Jitter::contrast, Jitter::saturation, Jitter::brightness},
    {Jitter::saturation, Jitter::brightness, Jitter::contrast},
    {Jitter::saturation, Jitter::contrast, Jitter::brightness},
};

// ColorJitter's factor: uniform in [max(0, 1 - x), 1 + x].
float jitter_factor(const RandomKey& key, std::uint64_t counter, float x) {
  if (x <= 0.0f) return 1.0f;
  const float low = std::max(0.0f, 1.0f - x);
  return low + (1.0f + x - low) * key.uniform(counter);
}

float clamp01(float v) { return std::clamp(v, 0.0f, 1.0f); }

float grayscale(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

// torchvision's _blend(img, other, f) = clamp(f * img + (1 - f) * other, 0, 1).
float blend(float v, float other, float f) { return clamp01(f * v + (1.0f - f) * other); }

void adjust_brightness(float* img, float f) {
  for (int i = 0; i < kImageBytes; ++i) img[i] = clamp01(img[i] * f);
}

void adjust_contrast(float* img, float f) {
  const float* r = img;
  const float* g = img + kPlane;
  const float* b = img + 2 * kPlane;
  float sum = 0.0f;
  for (int i = 0; i < kPlane; ++i) sum += grayscale(r[i], g[i], b[i]);
  const float mean = sum / kPlane;
  for (int i = 0; i < kImageBytes; ++i) img[i] = blend(img[i], mean, f);
}

void adjust_saturation(float* img, float f) {
  float* r = img;
  float* g = img + kPlane;
  float* b = img + 2 * kPlane;
  for (int i = 0; i < kPlane; ++i) {
    const float gray = grayscale(r[i], g[i], b[i]);
    r[i] = blend(r[i], gray, f);
    g[i] = blend(g[i], gray, f);
    b[i] = blend(b[i], gray, f);
  }
}

// Flip then crop, as one gather: the shifted window reads zero outside the image.
void flip_and_crop(const std::uint8_t* pixels, const AugmentDraw& draw, float* img) {
  for (int c = 0; c < kImageChannels; ++c) {
    const std::uint8_t* plane = pixels + c * kPlane;
    for (int y = 0; y < kImageSide; ++y) {
      const int sy = y + draw.shift_y;
      for (int x = 0; x < kImageSide; ++x) {
        const int sx = x + draw.shift_x;  // column in the flipped image
        float v = 0.0f;
        if (sy >= 0 && sy < kImageSide && sx >= 0 && sx < kImageSide) {
          const int column = draw.flip ? kImageSide - 1 - sx : sx;
          v = plane[sy * kImageSide + column] / 255.0f;
        }
        img[c * kPlane + y * kImageSide + x] = v;
      }
    }
  }
}

void cutout(const AugmentDraw& draw, float* out) {
  const int y0 = std::max(0, draw.cutout_y - draw.cutout_size / 2);
  const int y1 = std::min(kImageSide, draw.cutout_y - draw.cutout_size / 2 + draw.cutout_size);
  const int x0 = std::max(0, draw.cutout_x - draw.cutout_size / 2);
  const int x1 = std::min(kImageSide, draw.cutout_x - draw.cutout_size / 2 + draw.cutout_size);
  for (int c = 0; c < kImageChannels; ++c)
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) out[c * kPlane + y * kImageSide + x] = 0.0f;
}

}  // namespace

void shuffled_order(std::uint64_t seed, int epoch, int n, int* order) {
  const RandomKey key = RandomKey(seed, Purpose::shuffle).then(static_cast<std::uint64_t>(epoch));
  for (int i = 0; i < n; ++i) order[i] = i;
  // Fisher-Yates, drawing position i's partner from counter i.
  for (int i = n - 1; i > 0; --i) {
    const int j = static_cast<int>(key.below(static_cast<std::uint64_t>(i), i + 1));
    std::swap(order[i], order[j]);
  }
}

AugmentDraw draw_augmentation(const AugmentOptions& options, std::uint64_t seed, int epoch,
                              int index) {
  const RandomKey key = RandomKey(seed, Purpose::augment)
                            .then(static_cast<std::uint64_t>(epoch))
                            .then(static_cast<std::uint64_t>(index));
  AugmentDraw draw;
  draw.flip = options.flip && key.uniform(kFlip) < 0.5f;
  if (options.crop && options.crop_padding > 0) {
    const int pad = options.crop_padding;
    draw.shift_y = static_cast<int>(key.below(kShiftY, 2 * pad + 1)) - pad;
    draw.shift_x = static_cast<int>(key.below(kShiftX, 2 * pad + 1)) - pad;
  }
  const Jitter* order = kJitterOrders[key.below(kJitterOrder, 6)];
  std::copy(order, order + 3, draw.jitter_order);
  draw.brightness = jitter_factor(key, kBrightness, options.brightness);
  draw.contrast = jitter_factor(key, kContrast, options.contrast);
  draw.saturation = jitter_factor(key, kSaturation, options.saturation);
  if (options.cutout && options.cutout_size > 0) {
    draw.cutout = true;
    draw.cutout_size = options.cutout_size;
    draw.cutout_y = static_cast<int>(key.below(kCutoutY, kImageSide));
    draw.cutout_x = static_cast<int>(key.below(kCutoutX, kImageSide));
  }
  return draw;
}

void augment_image(const std::uint8_t* pixels, const AugmentDraw& draw,
                   const ChannelNormalisation& norm, float* out) {
  float img[kImageBytes];  // values in [0, 1], as after ToTensor
  flip_and_crop(pixels, draw, img);
  for (Jitter step : draw.jitter_order) {
    // A factor of exactly 1 is the identity; skipping it keeps "no jitter" bit-exact and cheap.
    switch (step) {
      case Jitter::brightness:
        if (draw.brightness != 1.0f) adjust_brightness(img, draw.brightness);
        break;
      case Jitter::contrast:
        if (draw.contrast != 1.0f) adjust_contrast(img, draw.contrast);
        break;
      case Jitter::saturation:
        if (draw.saturation != 1.0f) adjust_saturation(img, draw.saturation);
        break;
    }
  }
  for (int c = 0; c < kImageChannels; ++c)
    for (int i = 0; i < kPlane; ++i)
      out[c * kPlane + i] = (img[c * kPlane + i] - norm.mean[c]) / norm.std[c];
  if (draw.cutout) cutout(draw, out);
}

void normalise_image(const std::uint8_t* pixels, const ChannelNormalisation& norm, float* out) {
  for (int c = 0; c < kImageChannels; ++c)
    for (int i = 0; i < kPlane; ++i)
      out[c * kPlane + i] = (pixels[c * kPlane + i] / 255.0f - norm.mean[c]) / norm.std[c];
}

void assemble_batch(const ImageSet& set, const int* indices, int count,
                    const AugmentOptions* augment, const ChannelNormalisation& norm,
                    std::uint64_t seed, int epoch, float* images, int* labels) {
#pragma omp parallel for schedule(static)
  for (int j = 0; j < count; ++j) {
    const int index = indices[j];
    float* out = images + static_cast<std::size_t>(j) * kImageBytes;
    if (augment == nullptr) {
      normalise_image(set.pixels(index), norm, out);
    } else {
      augment_image(set.pixels(index), draw_augmentation(*augment, seed, epoch, index), norm, out);
    }
    labels[j] = set.label(index);
  }
}

}  // namespace normlab
