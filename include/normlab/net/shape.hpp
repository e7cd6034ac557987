// The shape of one image's activation: channels, height, width. The batch is a run-time choice.
#pragma once

namespace normlab {

struct Shape {
  int c = 0, h = 0, w = 0;

  constexpr long size() const { return long(c) * h * w; }
  constexpr bool operator==(const Shape&) const = default;
};

}  // namespace normlab
