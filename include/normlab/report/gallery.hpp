// A picture of test images the network got wrong, drawn with cairo.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace normlab {

struct GalleryImage {
  const std::uint8_t* pixels;  // 3072 bytes: planar R, G, B planes of 32x32
  int predicted;  // class index
  int actual;     // class index
};

// Grid of the images, each enlarged 4x (nearest neighbour) under a caption "pred: cat / true: dog".
// Throws normlab::Error naming the file for a class index outside class_names or null pixels.
void draw_gallery(const std::filesystem::path& png, std::span<const GalleryImage> images,
                  const std::vector<std::string>& class_names, const std::string& title);

}  // namespace normlab
