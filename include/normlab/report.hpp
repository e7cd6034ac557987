// Everything a run directory is made of besides the checkpoint: plots, gallery, tables, files.
#pragma once

#include "normlab/report/comparison_table.hpp"
#include "normlab/report/confusion.hpp"
#include "normlab/report/curves.hpp"
#include "normlab/report/gallery.hpp"
#include "normlab/report/metrics_files.hpp"
#include "normlab/report/sweep_report.hpp"
