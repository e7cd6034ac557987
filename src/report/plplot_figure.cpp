#include "plplot_figure.hpp"

#include <plplot.h>

#include <mutex>
#include <string>

#include "normlab/base/error.hpp"
#include "png_file.hpp"

namespace normlab {
namespace {

// PLplot's current stream and its handlers are process-wide: one figure at a time.
std::mutex plplot_mutex;
std::string plplot_abort_message;  // guarded by plplot_mutex

struct PlplotExit {
  std::string message;
};

// PLplot calls exit() after this handler returns, so it must not return. The library is built
// with unwind tables, so the exception travels back through PLplot's C frames to us.
int throw_instead_of_exit(const char* message) { throw PlplotExit{message}; }

// Recoverable errors: PLplot would print them and carry on; we keep the first and fail the figure.
void remember_abort(const char* message) {
  if (plplot_abort_message.empty()) plplot_abort_message = message;
}

void set_palette() {
  struct Rgb {
    int r, g, b;
  };
  constexpr Rgb fixed[] = {{255, 255, 255}, {34, 34, 34}, {224, 224, 224}, {110, 110, 110}};
  constexpr Rgb tab10[kSeriesColorCount] = {
      {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
      {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  plscmap0n(kFirstSeriesColor + kSeriesColorCount);
  for (int i = 0; i < kFirstSeriesColor; ++i) plscol0(i, fixed[i].r, fixed[i].g, fixed[i].b);
  for (int i = 0; i < kSeriesColorCount; ++i) {
    plscol0(kFirstSeriesColor + i, tab10[i].r, tab10[i].g, tab10[i].b);
  }
}

// Leaves the figure's stream and returns to whichever stream was current before.
void end_stream(PLINT previous_stream) {
  plend1();
  plsstrm(previous_stream);
}

}  // namespace

void render_plplot_png(const std::filesystem::path& png, int width, int height,
                       const std::function<void()>& draw, double text_scale) {
  std::lock_guard lock(plplot_mutex);
  write_png_atomically(png, [&](const std::filesystem::path& temporary) {
    plplot_abort_message.clear();
    plsexit(throw_instead_of_exit);
    plsabort(remember_abort);

    PLINT previous_stream = 0;
    PLINT stream = 0;
    plgstrm(&previous_stream);
    plmkstrm(&stream);
    try {
      plsdev("pngcairo");
      plsfnam(temporary.c_str());
      plspage(0, 0, width, height, 0, 0);
      set_palette();
      plinit();
      // The device's text has the same size in pixels on any page: a page of many small panels
      // scales it down (every later plschr(0, s) is relative to this default).
      if (text_scale != 1.0) {
        PLFLT default_height = 0, current_height = 0;
        plgchr(&default_height, &current_height);
        plschr(default_height * text_scale, 1.0);
      }
      pladv(0);
      draw();
    } catch (const PlplotExit& e) {
      end_stream(previous_stream);
      fail(png, "PLplot failed (" + e.message + ")");
    } catch (...) {
      end_stream(previous_stream);
      throw;
    }
    end_stream(previous_stream);  // the device writes the PNG here
    if (!plplot_abort_message.empty()) fail(png, "PLplot failed (" + plplot_abort_message + ")");
  });
}

}  // namespace normlab
