// Must NOT compile: 3*64*9 + 64*128*9 = 75,456 parameters, over the 50,000 budget.
// tests/expect_compile_failure.sh checks that the compiler refuses and names both numbers.
#include "normlab/net/nets.hpp"

using normlab::Chain, normlab::Input, normlab::Conv3x3, normlab::kParameterBudget;
using OverBudget = Chain<Input<3, 32, 32>, Conv3x3<64>, Conv3x3<128>>;
static_assert(normlab::ParameterBudget<OverBudget::parameters, kParameterBudget>::ok);
