// The umbrella header: everything a g++-only consumer needs (a CUDA build adds one .cu file that
// includes zsbir/cuda.cuh; see docs/backends.md).
#pragma once

#include "zsbir/core/config.hpp"
#include "zsbir/core/device_select.hpp"
#include "zsbir/core/error.hpp"
#include "zsbir/core/random.hpp"
#include "zsbir/core/tensor.hpp"

#include "zsbir/backend/kernel_profile.hpp"
#include "zsbir/backend/math_options.hpp"
#include "zsbir/backend/tensor_math.hpp"

#include "zsbir/autograd/engine.hpp"
#include "zsbir/autograd/function.hpp"
#include "zsbir/autograd/gradcheck.hpp"
#include "zsbir/autograd/grad_mode.hpp"
#include "zsbir/autograd/variable.hpp"

#include "zsbir/ops/batch_norm.hpp"
#include "zsbir/ops/conv.hpp"
#include "zsbir/ops/distance.hpp"
#include "zsbir/ops/concat_into.hpp"
#include "zsbir/ops/elementwise.hpp"
#include "zsbir/ops/fused.hpp"
#include "zsbir/ops/index.hpp"
#include "zsbir/ops/join.hpp"
#include "zsbir/ops/linalg.hpp"
#include "zsbir/ops/pool.hpp"
#include "zsbir/ops/reduce.hpp"
#include "zsbir/ops/shape.hpp"

#include "zsbir/nn/activation.hpp"
#include "zsbir/nn/batch_norm.hpp"
#include "zsbir/nn/conv2d.hpp"
#include "zsbir/nn/flatten.hpp"
#include "zsbir/nn/grad_reverse.hpp"
#include "zsbir/nn/linear.hpp"
#include "zsbir/nn/module.hpp"
#include "zsbir/nn/pool.hpp"
#include "zsbir/nn/sequential.hpp"
#include "zsbir/nn/state_dict.hpp"

#include "zsbir/optim/adam.hpp"
#include "zsbir/optim/optimizer.hpp"
#include "zsbir/optim/schedule.hpp"
#include "zsbir/optim/sgd.hpp"

#include "zsbir/losses/bce.hpp"
#include "zsbir/losses/triplet_margin.hpp"

#include "zsbir/models/dense_block.hpp"
#include "zsbir/models/densenet.hpp"
#include "zsbir/models/domain_classifier.hpp"
#include "zsbir/models/encoder.hpp"
#include "zsbir/models/sbir_model.hpp"

#include "zsbir/retrieval/distance.hpp"
#include "zsbir/retrieval/metrics.hpp"
#include "zsbir/retrieval/ranking.hpp"

#include "zsbir/io/posix_file.hpp"
#include "zsbir/io/safetensors.hpp"
#include "zsbir/io/state_dict_file.hpp"
#include "zsbir/io/checkpoint.hpp"
