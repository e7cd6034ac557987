// How many columns a line may take before the terminal wraps it.
#pragma once

namespace normlab {

// $COLUMNS when it is a positive number (as ls and friends honour it), else the width of the
// terminal on stderr or stdout, else 80: logs and pipes get lines an 80-column screen shows whole.
int terminal_width();

}  // namespace normlab
