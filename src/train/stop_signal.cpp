#include "normlab/train/stop_signal.hpp"

#include <atomic>
#include <csignal>

namespace normlab {

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }
}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}
bool stop_requested() { return g_stop.load(); }
void request_stop() { g_stop = true; }
void clear_stop() { g_stop = false; }

}  // namespace normlab
