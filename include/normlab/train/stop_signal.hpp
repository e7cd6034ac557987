// SIGINT and SIGTERM ask a training loop to stop after the current step (it then checkpoints
// and exits 130). request_stop() does the same from code (a step finishes, then the loop
// returns, so a run stopped before it starts trains exactly one step); clear_stop() withdraws
// the request.
#pragma once

namespace normlab {

void install_stop_handlers();
bool stop_requested();
void request_stop();
void clear_stop();

}  // namespace normlab
