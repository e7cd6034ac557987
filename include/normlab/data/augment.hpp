// Batch assembly: shuffled order, augmentation and normalisation of uint8 records into the
// network's input tensor. Every random choice is a pure function of (seed, epoch, image index),
// so a batch is the same whatever the thread count or schedule.
#pragma once

#include <cstdint>

#include "normlab/data/cifar10.hpp"

namespace normlab {

// torchvision's RandomHorizontalFlip(), RandomCrop(32, padding), ColorJitter(brightness,
// contrast, saturation), in that order; optional Cutout after normalisation.
struct AugmentOptions {
  bool flip = true;
  bool crop = true;
  int crop_padding = 4;
  float brightness = 0.2f, contrast = 0.2f, saturation = 0.2f;
  bool cutout = false;
  int cutout_size = 8;
};

// Per-channel (R, G, B) statistics of the training set, applied as (x - mean) / std.
struct ChannelNormalisation {
  float mean[3] = {0.4914f, 0.4822f, 0.4465f};
  float std[3] = {0.247f, 0.243f, 0.261f};
};

// The permutation of [0, n) used in epoch `epoch`: a pure function of (seed, epoch). Writes n ints.
void shuffled_order(std::uint64_t seed, int epoch, int n, int* order);

// Writes batch images as normalised floats, NCHW (batch, 3, 32, 32), and their labels.
// `augment` null = evaluation (no augmentation). Randomness for image j comes only from
// RandomKey(seed, Purpose::augment).then(epoch).then(indices[j]). Parallel over images with
// OpenMP; allocates nothing. Indices must lie in [0, set.count).
void assemble_batch(const ImageSet& set, const int* indices, int count,
                    const AugmentOptions* augment, const ChannelNormalisation& norm,
                    std::uint64_t seed, int epoch, float* images, int* labels);

// The random choices for one image. Public so tests (and the gallery) can see exactly what was
// drawn and check each transform against it.
enum class Jitter : int { brightness, contrast, saturation };
struct AugmentDraw {
  bool flip = false;
  // The crop as a shift: output(y, x) = input(y + shift_y, x + shift_x), zero outside the image.
  // torchvision's crop offset in the padded image is shift + padding.
  int shift_y = 0, shift_x = 0;
  Jitter jitter_order[3] = {Jitter::brightness, Jitter::contrast, Jitter::saturation};
  float brightness = 1.0f, contrast = 1.0f, saturation = 1.0f;  // 1 = unchanged
  bool cutout = false;
  int cutout_y = 0, cutout_x = 0;  // centre of the cutout square
  int cutout_size = 0;
};

// The draw for image `index` in epoch `epoch`; options that are off leave their fields neutral.
AugmentDraw draw_augmentation(const AugmentOptions& options, std::uint64_t seed, int epoch,
                              int index);

// One image: transforms 3072 planar uint8 pixels by `draw` and writes 3x32x32 normalised floats.
void augment_image(const std::uint8_t* pixels, const AugmentDraw& draw,
                   const ChannelNormalisation& norm, float* out);

// One image without augmentation: just ToTensor and Normalize.
void normalise_image(const std::uint8_t* pixels, const ChannelNormalisation& norm, float* out);

}  // namespace normlab
