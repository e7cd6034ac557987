// normlab's own 3x3 convolution kernels (padding 1, stride 1, no bias) on channels-last f32
// activations, forward and backward data, for the few channels of these networks (3 to 32),
// where oneDNN 2.6's direct kernels reach about half of the FMA peak (ConvMode::normlab).
//
// Why they are faster: on the hosts measured, an FMA that takes an operand from memory (a
// broadcast input value or a loaded vector) runs at about half the rate of one on registers,
// and with 16 output channels a direct kernel has one FMA per input value it loads. Here one
// AVX-512 register holds 16 output channels of one pixel, a row of 16 pixels (or 8 pixels of
// 32 channels) is accumulated in registers, and each input value is broadcast once for the
// three taps of its kernel row (and both channel blocks), from three weight vectors held in
// registers: one load feeds three to six FMAs.
//
// Every output value is summed by one thread in a fixed order (kernel row, input channel,
// kernel column), so the results are the same bits whatever the thread count. The order is
// not oneDNN's, so results differ from ConvMode::direct by rounding.
#pragma once

#include <cstddef>

namespace normlab::conv3x3 {

struct Problem {
  int batch, height, width, in_channels, out_channels;
};

// Whether this build has the kernels (AVX-512: -march names a CPU that has it) and they take
// the problem: the forward pass needs output channels a multiple of 16, input channels 3, 10,
// 16 or 32 (the ones built) and a width that is a multiple of 8.
bool available();
bool forward_supported(const Problem& p);
// Backward data is a forward pass from the output gradient, with the channel counts swapped.
bool backward_data_supported(const Problem& p);

// Weights for forward: [kh][kw][ic][oc] from PyTorch's OIHW.
std::size_t packed_weights_floats(const Problem& p);
void pack_forward_weights(const Problem& p, const float* oihw, float* packed);
// Weights for backward data: flipped taps, [kh][kw][oc][ic].
void pack_backward_data_weights(const Problem& p, const float* oihw, float* packed);

// dst (N,H,W,out) = conv(src (N,H,W,in), weights).
void forward(const Problem& p, const float* src, const float* packed, float* dst);
// diff_src (N,H,W,in) from diff_dst (N,H,W,out) and the backward-data packed weights.
void backward_data(const Problem& p, const float* diff_dst, const float* packed, float* diff_src);

}  // namespace normlab::conv3x3
