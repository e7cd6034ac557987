// normlab: train and compare BatchNorm, GroupNorm and LayerNorm on CIFAR-10.
#include <cstdio>

#include "commands.hpp"
#include "normlab/base/error.hpp"
#include "help_formatter.hpp"
#include "usage_errors.hpp"

int main(int argc, char** argv) {
  CLI::App app{"normlab: BatchNorm vs GroupNorm vs LayerNorm on CIFAR-10, on the CPU", "normlab"};
  // Before the commands are added: each takes a copy of the program's formatter.
  app.formatter(std::make_shared<normlab::cli::HelpFormatter>());
  app.set_version_flag("--version", std::string("normlab ") + NORMLAB_VERSION);
  app.require_subcommand(1);
  normlab::cli::add_train_command(app);
  normlab::cli::add_compare_command(app);
  normlab::cli::add_eval_command(app);
  normlab::cli::add_summary_command(app);
  normlab::cli::add_sweep_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s\n", normlab::cli::usage_error_line(app, e, argc, argv).c_str());
    return normlab::cli::kExitBadInput;
  } catch (const normlab::Error& e) {
    std::fprintf(stderr, "normlab: error: %s\n", e.what());
    return normlab::cli::kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normlab: internal error: %s\n", e.what());
    return normlab::cli::kExitInternal;
  }
  return normlab::cli::kExitOk;
}
