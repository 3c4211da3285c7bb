// The umbrella header: everything a g++-only consumer needs.
#pragma once

#include "zsbir/core/config.hpp"
#include "zsbir/core/error.hpp"
#include "zsbir/core/random.hpp"
#include "zsbir/core/tensor.hpp"

#include "zsbir/backend/tensor_math.hpp"

#include "zsbir/autograd/engine.hpp"
#include "zsbir/autograd/function.hpp"
#include "zsbir/autograd/gradcheck.hpp"
#include "zsbir/autograd/grad_mode.hpp"
#include "zsbir/autograd/variable.hpp"

#include "zsbir/ops/elementwise.hpp"
#include "zsbir/ops/reduce.hpp"
