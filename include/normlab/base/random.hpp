// Counter-based randomness: every random number is a pure function of a key
// (seed, purpose, epoch, step, index, ...), never of a generator's hidden state. That makes
// results independent of thread scheduling and lets a resumed run regenerate exactly the
// numbers an uninterrupted run would have drawn.
#pragma once

#include <cstdint>

namespace normlab {

// What a random stream is for; part of every key so streams never collide.
enum class Purpose : std::uint64_t {
  init = 1,
  shuffle = 2,
  augment = 3,
  dropout = 4,
};

// SplitMix64's finaliser: a bijective avalanche mix of 64 bits.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A key names one stream; counter(i) is its i-th 64-bit value.
struct RandomKey {
  std::uint64_t state;

  constexpr RandomKey(std::uint64_t seed, Purpose purpose)
      : state(mix64(seed ^ mix64(static_cast<std::uint64_t>(purpose)))) {}
  // Derive a sub-stream, e.g. .then(epoch).then(sample).
  constexpr RandomKey then(std::uint64_t part) const { return RandomKey(mix64(state ^ mix64(part))); }
  constexpr std::uint64_t bits(std::uint64_t counter) const { return mix64(state + mix64(counter)); }
  // Uniform in [0, 1) with 24 bits of resolution (a float's mantissa).
  constexpr float uniform(std::uint64_t counter) const {
    return static_cast<float>(bits(counter) >> 40) * (1.0f / 16777216.0f);
  }
  // Uniform integer in [0, n).
  constexpr std::uint64_t below(std::uint64_t counter, std::uint64_t n) const {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(bits(counter)) * n) >> 64);
  }

 private:
  explicit constexpr RandomKey(std::uint64_t s) : state(s) {}
};

}  // namespace normlab
