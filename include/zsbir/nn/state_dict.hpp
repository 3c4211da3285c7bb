// State dicts: named tensors (and integers such as num_batches_tracked or an optimizer's step) in a
// fixed order, and the one matcher that loads them into a module's or an optimizer's slots, reporting
// every missing, unexpected and wrongly shaped key at once.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "zsbir/core/tensor.hpp"

namespace zsbir {

/// One named entry of a state dict: a floating tensor, or an integer (BatchNorm's num_batches_tracked,
/// an optimizer's step), which checkpoints store as a 0-d int64 tensor, as PyTorch does.
template <Real T>
struct StateEntry {
  std::string name;
  Tensor<T> tensor;     // undefined for an integer entry
  int64_t integer = 0;  // the value of an integer entry

  bool is_integer() const { return !tensor.defined(); }
};

/// Entries in the order PyTorch's state_dict() lists them.
template <Real T>
using StateDict = std::vector<StateEntry<T>>;

/// What a non-strict load skipped (PyTorch's missing_keys / unexpected_keys).
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

namespace detail {

/// Where a load writes one key: into a tensor (same shape required) or an integer.
template <Real T>
struct StateSlot {
  std::string name;
  Tensor<T>* tensor = nullptr;
  int64_t* integer = nullptr;
};

inline std::string join_keys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "\"" : ", \"") + k + "\"";
  return out;
}

/// Copies `dict` into `slots` by name. Nothing is written unless the load succeeds. Strict: a missing
/// or unexpected key is an error; always (as in PyTorch): a key whose shape differs. One Error lists
/// every problem; `who` names the module or optimizer in it.
template <Real T>
LoadResult load_state(const std::vector<StateSlot<T>>& slots, const StateDict<T>& dict, bool strict,
                      const std::string& who) {
  std::unordered_map<std::string, const StateEntry<T>*> given;
  for (const auto& e : dict)
    ZSBIR_CHECK(given.emplace(e.name, &e).second, "load_state_dict for ", who, ": key \"", e.name,
                "\" appears twice in the state dict");
  LoadResult result;
  std::vector<std::string> wrong_shapes;
  std::vector<std::pair<const StateSlot<T>*, const StateEntry<T>*>> matched;
  std::unordered_set<std::string> known;
  for (const auto& slot : slots) {
    known.insert(slot.name);
    const auto it = given.find(slot.name);
    if (it == given.end()) {
      result.missing_keys.push_back(slot.name);
      continue;
    }
    const StateEntry<T>& e = *it->second;
    // An integer slot also takes a one-element tensor: a generic reader may have converted it to T.
    const bool fits = slot.tensor ? !e.is_integer() && e.tensor.shape() == slot.tensor->shape()
                                  : e.is_integer() || e.tensor.numel() == 1;
    if (fits) {
      matched.emplace_back(&slot, &e);
      continue;
    }
    const std::string given_desc = e.is_integer() ? std::string("an integer") : to_string(e.tensor.shape());
    const std::string wanted_desc = slot.tensor ? to_string(slot.tensor->shape()) : std::string("an integer");
    wrong_shapes.push_back("\"" + slot.name + "\" (given " + given_desc + ", expected " + wanted_desc + ")");
  }
  for (const auto& e : dict)
    if (!known.count(e.name)) result.unexpected_keys.push_back(e.name);

  const bool fail = !wrong_shapes.empty() ||
                    (strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty()));
  if (fail) {
    std::string msg = "load_state_dict for " + who + " failed:";
    if (strict && !result.missing_keys.empty()) msg += "\n  missing keys: " + join_keys(result.missing_keys);
    if (strict && !result.unexpected_keys.empty())
      msg += "\n  unexpected keys: " + join_keys(result.unexpected_keys);
    if (!wrong_shapes.empty()) {
      msg += "\n  wrongly shaped keys: ";
      for (size_t i = 0; i < wrong_shapes.size(); ++i) msg += (i ? ", " : "") + wrong_shapes[i];
    }
    throw Error(msg);
  }
  for (const auto& [slot, e] : matched) {
    if (slot->integer) {
      *slot->integer = e->is_integer() ? e->integer : static_cast<int64_t>(std::llround(e->tensor.item()));
    } else if (e->tensor.data() != slot->tensor->data()) {  // loading a module's own state is a no-op
      slot->tensor->copy_(e->tensor);
    }
  }
  return result;
}

}  // namespace detail
}  // namespace zsbir
