#include "commands.hpp"
#include "normlab/models.hpp"

namespace normlab::cli {

void RecipeOptions::add_to(CLI::App& app) {
  TrainConfig& v = values;
  app.add_option("--net", v.net, "network: seed (the assignment's reference), s8, or s8-plain")
      ->check(CLI::IsMember(network_names()));
  app.add_option("--norm", v.norm, "normalisation: batch, group (4 groups) or layer")
      ->check(CLI::IsMember({"batch", "group", "layer"}));
  app.add_option("--epochs", v.epochs, "epochs to train (recipe: 20)");
  app.add_option("--seed", v.seed, "seed for initialisation, shuffling, augmentation, dropout");
  app.add_option("--threads", v.threads, "CPU threads (results are bitwise reproducible per count)");
  app.add_option("--batch-size", v.batch, "images per step (recipe: 128)");
  app.add_option("--norm-batch", v.norm_batch,
                 "BatchNorm statistics per group of K images, \"ghost\" batch norm (default: the "
                 "batch; K must divide it; GroupNorm and LayerNorm ignore it)");
  app.add_option("--lr", v.learning_rate, "learning rate (the peak for one-cycle)");
  app.add_option("--momentum", v.momentum, "SGD momentum");
  app.add_flag("--nesterov", v.nesterov, "Nesterov momentum");
  app.add_flag("--no-nesterov", no_nesterov, "plain momentum");
  app.add_option("--weight-decay", v.weight_decay, "L2 weight decay on conv weights (not norms)");
  app.add_flag("--decay-norms", v.decay_norms, "apply the weight decay to norm scales and shifts too");
  app.add_option("--schedule", schedule, "learning-rate schedule: constant, one-cycle or cosine")
      ->check(CLI::IsMember({"constant", "one-cycle", "cosine"}));
  app.add_option("--label-smoothing", v.label_smoothing, "label smoothing epsilon");
  app.add_flag("--no-flip", no_flip, "no random horizontal flip");
  app.add_flag("--no-crop", no_crop, "no random crop");
  app.add_option("--crop-padding", v.augment.crop_padding, "zero padding of the random crop");
  app.add_option("--jitter", jitter, "colour jitter: brightness, contrast and saturation");
  app.add_flag("--no-jitter", no_jitter, "no colour jitter");
  app.add_flag("--cutout", v.augment.cutout, "cutout: zero a random square after normalisation");
  app.add_flag("--no-cutout", no_cutout, "no cutout");
  app.add_option("--cutout-size", v.augment.cutout_size, "side of the cutout square");
  app.add_flag("--tta", v.test_time_flip, "test-time augmentation: average with the mirror image");
  app.add_flag("--no-tta", no_tta, "no test-time augmentation");
  app.add_option("--limit", v.limit, "train on the first N training images only");
  app.add_option("--holdout", v.holdout,
                 "validate on the last N training images instead of the test set");
  app.add_option("--data", v.data_dir,
                 "CIFAR-10 binary directory (default: $NORMLAB_DATA, else data/cifar-10-batches-bin)");
  for (const char* flag : {"nesterov", "cutout", "tta", "jitter"})
    app.get_option(std::string("--no-") + flag)->excludes(std::string("--") + flag);
}

TrainConfig RecipeOptions::apply(const CLI::App& app) const {
  TrainConfig c = values.net != "seed" ? s8_recipe() : seed_recipe();
  const TrainConfig& v = values;
  auto given = [&](const char* name) { return app.count(name) > 0; };
  c.net = v.net;
  c.norm = v.norm;
  if (given("--epochs")) c.epochs = v.epochs;
  if (given("--seed")) c.seed = v.seed;
  if (given("--threads")) c.threads = v.threads;
  if (given("--batch-size")) c.batch = v.batch;
  if (given("--norm-batch")) c.norm_batch = v.norm_batch;
  if (given("--lr")) c.learning_rate = v.learning_rate;
  if (given("--momentum")) c.momentum = v.momentum;
  if (given("--nesterov")) c.nesterov = true;
  if (no_nesterov) c.nesterov = false;
  if (given("--weight-decay")) c.weight_decay = v.weight_decay;
  if (given("--decay-norms")) c.decay_norms = true;
  if (given("--schedule")) c.schedule = parse_schedule(schedule);
  if (given("--label-smoothing")) c.label_smoothing = v.label_smoothing;
  if (no_flip) c.augment.flip = false;
  if (no_crop) c.augment.crop = false;
  if (given("--crop-padding")) c.augment.crop_padding = v.augment.crop_padding;
  if (given("--jitter")) c.augment.brightness = c.augment.contrast = c.augment.saturation = jitter;
  if (no_jitter) c.augment.brightness = c.augment.contrast = c.augment.saturation = 0.f;
  if (given("--cutout")) c.augment.cutout = true;
  if (no_cutout) c.augment.cutout = false;
  if (given("--cutout-size")) c.augment.cutout_size = v.augment.cutout_size;
  if (given("--tta")) c.test_time_flip = true;
  if (no_tta) c.test_time_flip = false;
  if (given("--limit")) c.limit = v.limit;
  if (given("--holdout")) c.holdout = v.holdout;
  c.data_dir = v.data_dir;
  c.validate();
  return c;
}

}  // namespace normlab::cli
