#include <fmt/format.h>

#include <cstdio>

#include "commands.hpp"
#include "normlab/base/error.hpp"
#include "normlab/train/models.hpp"

namespace normlab::cli {

namespace {
// 35504 -> "35,504", as torchsummary prints counts.
std::string with_commas(long n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}
}  // namespace

void add_summary_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("summary", "layers, output shapes, parameters and the memory plan");
  // The options that shape the network and its arena, from the one option table: the same
  // names, defaults (the network's recipe) and refusals as train's.
  auto options = std::make_shared<RecipeOptions>();
  options->add_only(*cmd, {"--net", "--norm", "--groups", "--batch-size", "--norm-batch", "--conv", "--precision", "--unfused"});
  cmd->callback([cmd, options] {
    // Refused before anything is printed, in the words `train` uses (TrainConfig::validate).
    const TrainConfig planned = options->apply(*cmd);
    check_this_cpu_naming_options(planned);
    const NetworkDescription d = describe_network(planned.net, planned.norm);
    const std::string rule(64, '-');
    std::printf("%s\n%-22s %-22s %12s %10s\n%s\n", rule.c_str(), "Layer (type)", "Output Shape",
                "Param #", "MFLOP/img", rule.c_str());
    int index = 0;
    for (const auto& l : d.layers)
      std::printf("%-22s %-22s %12s %10.2f\n", fmt::format("{}-{}", l.kind, ++index).c_str(),
                  fmt::format("[-1, {}, {}, {}]", l.output.c, l.output.h, l.output.w).c_str(),
                  with_commas(l.parameters).c_str(), l.flops / 1e6);
    std::printf("%s\nTotal params: %s\nTrainable params: %s\nForward MFLOP per image: %.2f\n"
                "Backward MFLOP per image: %.2f\n%s\n",
                rule.c_str(), with_commas(d.parameters).c_str(),
                with_commas(d.parameters).c_str(), d.flops / 1e6, d.backward_flops / 1e6,
                rule.c_str());
    const auto network =
        make_network(planned.net, planned.norm, planned.batch, planned.norm_batch, {planned.conv, planned.precision},
                     planned.groups, planned.unfused ? Executor::layered : Executor::fused);
    const MemoryPlan& plan = network->arena().plan();
    std::printf("Arena for batch %d (one allocation):\n", planned.batch);
    for (std::size_t r = 0; r < plan.bytes.size(); ++r) {
      std::printf("  %-24s %10.2f MiB", std::string(region_name(Region(r))).c_str(),
                  double(plan.bytes[r]) / (1 << 20));
      if (Region(r) == Region::activation_gradients)
        std::printf("  (planned by lifetime; %.2f MiB if each had its own)",
                    double(plan.gradients_unplanned) / (1 << 20));
      std::printf("\n");
    }
    std::printf("  %-24s %10.2f MiB\n%s\n", "total", double(plan.total()) / (1 << 20), rule.c_str());
    // The plan: which top-level layers' backward each activation gradient lives through.
    std::printf("Activation gradients by lifetime (layers, offset MiB, size MiB):\n");
    for (const auto& g : network->arena().gradient_lifetimes())
      std::printf("  layers %2d-%-2d  at %7.2f  %6.2f\n", g.first, g.last, double(g.offset) / (1 << 20),
                  double(g.bytes) / (1 << 20));
  });
}

}  // namespace normlab::cli
