// The gallery of misclassified images, drawn with cairo: text through cairo, the enlarged images
// written pixel by pixel so every source pixel becomes an exact block of the output.
#include "normlab/report/gallery.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "normlab/base/error.hpp"
#include "png_file.hpp"

namespace normlab {
namespace {

constexpr int kSourceSize = 32;
constexpr int kScale = 4;
constexpr int kImageSize = kSourceSize * kScale;
constexpr int kCellWidth = 190;     // wide enough for most captions at full font size
constexpr int kCaptionHeight = 24;
constexpr int kCellGap = 16;
constexpr int kMargin = 24;
constexpr int kTitleHeight = 60;
constexpr double kCaptionFontSize = 13;
constexpr double kTitleFontSize = 22;
constexpr const char* kFont = "DejaVu Sans";

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

struct Layout {
  int columns;
  int rows;
  int width;
  int height;
  int grid_left;  // the grid is centred when the title is wider than it
};

double text_width(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

// Roughly square grids read best; eight columns keep large galleries a sensible width.
Layout plan_layout(std::size_t count, double title_width) {
  Layout layout{};
  layout.columns = std::clamp(static_cast<int>(std::ceil(std::sqrt(double(count)))), 1, 8);
  layout.rows = std::max(1, static_cast<int>((count + layout.columns - 1) / layout.columns));
  const int grid_width = layout.columns * kCellWidth + (layout.columns - 1) * kCellGap;
  layout.width = std::max(grid_width, static_cast<int>(title_width) + 20) + 2 * kMargin;
  layout.height = kTitleHeight + layout.rows * (kCaptionHeight + kImageSize) +
                  (layout.rows - 1) * kCellGap + kMargin;
  layout.grid_left = (layout.width - grid_width) / 2;
  return layout;
}

void check_image(const std::filesystem::path& png, const GalleryImage& image, std::size_t index,
                 std::size_t class_count) {
  auto valid = [&](int c) { return c >= 0 && static_cast<std::size_t>(c) < class_count; };
  if (image.pixels == nullptr) {
    throw Error(png.string() + ": gallery image " + std::to_string(index) + " has no pixels");
  }
  if (!valid(image.predicted) || !valid(image.actual)) {
    throw Error(png.string() + ": gallery image " + std::to_string(index) +
                " has a class index outside the " + std::to_string(class_count) + " class names");
  }
}

// "pred: cat" in red (what went wrong), " / true: dog" in ink, centred over the image.
void draw_caption(cairo_t* cr, const std::string& predicted, const std::string& actual,
                  double centre_x, double baseline) {
  const std::string wrong = "pred: " + predicted;
  const std::string right = " / true: " + actual;
  cairo_set_font_size(cr, kCaptionFontSize);
  double width = text_width(cr, wrong + right);
  if (width > kCellWidth - 4) {  // long class names: shrink rather than overlap the neighbour
    cairo_set_font_size(cr, kCaptionFontSize * (kCellWidth - 4) / width);
    width = text_width(cr, wrong + right);
  }
  cairo_move_to(cr, centre_x - width / 2, baseline);
  cairo_set_source_rgb(cr, 0.75, 0.10, 0.10);
  cairo_show_text(cr, wrong.c_str());
  cairo_set_source_rgb(cr, 0.13, 0.13, 0.13);
  cairo_show_text(cr, right.c_str());
}

// Nearest-neighbour enlargement straight into the surface's pixels (RGB24: 0x00RRGGBB words).
void paint_enlarged(cairo_surface_t* surface, const std::uint8_t* planar_rgb, int left, int top) {
  unsigned char* data = cairo_image_surface_get_data(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  constexpr int plane = kSourceSize * kSourceSize;
  for (int y = 0; y < kImageSize; ++y) {
    auto* row = reinterpret_cast<std::uint32_t*>(data + (top + y) * stride) + left;
    for (int x = 0; x < kImageSize; ++x) {
      const int source = (y / kScale) * kSourceSize + x / kScale;
      row[x] = (std::uint32_t{planar_rgb[source]} << 16) |
               (std::uint32_t{planar_rgb[plane + source]} << 8) | planar_rgb[2 * plane + source];
    }
  }
}

}  // namespace

void draw_gallery(const std::filesystem::path& png, std::span<const GalleryImage> images,
                  const std::vector<std::string>& class_names, const std::string& title) {
  for (std::size_t i = 0; i < images.size(); ++i) check_image(png, images[i], i, class_names.size());

  // Measure the title on a scratch surface to size the real one.
  Surface scratch(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1), cairo_surface_destroy);
  Context measure(cairo_create(scratch.get()), cairo_destroy);
  cairo_select_font_face(measure.get(), kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(measure.get(), kTitleFontSize);
  const Layout layout = plan_layout(images.size(), text_width(measure.get(), title));

  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, layout.width, layout.height),
                  cairo_surface_destroy);
  Context cr(cairo_create(surface.get()), cairo_destroy);
  cairo_set_source_rgb(cr.get(), 1, 1, 1);
  cairo_paint(cr.get());

  cairo_select_font_face(cr.get(), kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr.get(), kTitleFontSize);
  cairo_set_source_rgb(cr.get(), 0.13, 0.13, 0.13);
  cairo_move_to(cr.get(), (layout.width - text_width(cr.get(), title)) / 2, 38);
  cairo_show_text(cr.get(), title.c_str());

  cairo_select_font_face(cr.get(), kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  if (images.empty()) {
    cairo_set_font_size(cr.get(), kCaptionFontSize);
    cairo_set_source_rgb(cr.get(), 0.45, 0.45, 0.45);
    const std::string note = "(no images)";
    cairo_move_to(cr.get(), (layout.width - text_width(cr.get(), note)) / 2, kTitleHeight + 40);
    cairo_show_text(cr.get(), note.c_str());
  }

  struct Placement {
    int left, top;
  };
  std::vector<Placement> placements;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const int column = static_cast<int>(i) % layout.columns;
    const int row = static_cast<int>(i) / layout.columns;
    const int cell_left = layout.grid_left + column * (kCellWidth + kCellGap);
    const int cell_top = kTitleHeight + row * (kCaptionHeight + kImageSize + kCellGap);
    const Placement image_at{cell_left + (kCellWidth - kImageSize) / 2, cell_top + kCaptionHeight};
    draw_caption(cr.get(), class_names[static_cast<std::size_t>(images[i].predicted)],
                 class_names[static_cast<std::size_t>(images[i].actual)],
                 cell_left + kCellWidth / 2.0, cell_top + kCaptionHeight - 8);
    // A hairline frame keeps dark or white images from merging into the background.
    cairo_set_source_rgb(cr.get(), 0.8, 0.8, 0.8);
    cairo_set_line_width(cr.get(), 1);
    cairo_rectangle(cr.get(), image_at.left - 1.5, image_at.top - 1.5, kImageSize + 3,
                    kImageSize + 3);
    cairo_stroke(cr.get());
    placements.push_back(image_at);
  }

  cairo_surface_flush(surface.get());
  for (std::size_t i = 0; i < images.size(); ++i) {
    paint_enlarged(surface.get(), images[i].pixels, placements[i].left, placements[i].top);
  }
  cairo_surface_mark_dirty(surface.get());

  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
    throw Error(png.string() + ": cannot draw (" +
                cairo_status_to_string(cairo_surface_status(surface.get())) + ")");
  }
  write_png_atomically(png, [&](const std::filesystem::path& temporary) {
    const cairo_status_t status = cairo_surface_write_to_png(surface.get(), temporary.c_str());
    if (status != CAIRO_STATUS_SUCCESS)
      fail(png, std::string("cannot write (") + cairo_status_to_string(status) + ")");
  });
}

}  // namespace normlab
