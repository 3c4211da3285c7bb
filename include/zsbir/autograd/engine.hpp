// The backward engine: order the graph so every node comes before the nodes of its inputs, walk it
// once, and hand each node the sum of the gradients that reached its output. Saved tensors are
// released afterwards unless retain_graph.
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "zsbir/autograd/anomaly_mode.hpp"
#include "zsbir/autograd/variable.hpp"

namespace zsbir {

namespace detail {

/// Nodes reachable from `root`, each before all nodes it sends gradients to.
template <Real T>
std::vector<Node<T>*> topological_order(Node<T>* root) {
  std::vector<Node<T>*> postorder;
  std::unordered_set<Node<T>*> seen{root};
  std::vector<std::pair<Node<T>*, size_t>> stack{{root, 0}};
  while (!stack.empty()) {  // iterative DFS: deep networks must not overflow the call stack
    auto& [node, child] = stack.back();
    if (child < node->next.size()) {
      Node<T>* n = node->next[child++].get();
      if (n && seen.insert(n).second) stack.emplace_back(n, 0);
    } else {
      postorder.push_back(node);
      stack.pop_back();
    }
  }
  return {postorder.rbegin(), postorder.rend()};
}

template <Real T>
void run_backward(const std::shared_ptr<Node<T>>& root, const Tensor<T>& root_grad, bool retain_graph) {
  const std::vector<Node<T>*> order = topological_order(root.get());
  std::unordered_map<Node<T>*, Tensor<T>> pending{{root.get(), root_grad}};
  NoGradGuard no_grad;  // backward formulas are tensor math; nothing here is recorded
  const bool anomaly = AnomalyMode::is_enabled();
  if (anomaly)  // every later gradient is checked where it is made
    if (const std::string bad = non_finite_summary(root_grad); !bad.empty())
      ZSBIR_FAIL("anomaly detected: the gradient backward() started from holds ", bad);
  for (Node<T>* node : order) {
    auto it = pending.find(node);
    if (it == pending.end()) continue;  // no gradient flows here (e.g. a discarded branch)
    const Tensor<T> grad = std::move(it->second);
    pending.erase(it);
    ZSBIR_CHECK(!node->released(), "backward: trying to backward through ", node->name(),
                " a second time, but its saved tensors were freed by the first backward; "
                "pass retain_graph=true to the first backward() to keep them");
    std::vector<Tensor<T>> grads = node->apply(grad);
    if (anomaly) [[unlikely]]
      check_backward(node->name(), node->recorded_as, grads);
    if (!retain_graph) node->release_saved();  // as soon as possible: what it saved is dead weight now
    ZSBIR_CHECK(grads.size() == node->next.size() || (grads.empty() && node->next.empty()), node->name(),
                ".backward returned ", grads.size(), " gradients for ", node->next.size(), " inputs");
    for (size_t i = 0; i < node->next.size(); ++i) {
      Node<T>* target = node->next[i].get();
      if (!target || !grads[i].defined()) continue;
      ZSBIR_CHECK(grads[i].shape() == node->input_shapes[i], node->name(), ".backward returned a gradient of shape ",
                  to_string(grads[i].shape()), " for input ", i, " of shape ", to_string(node->input_shapes[i]));
      auto [slot, fresh] = pending.try_emplace(target, std::move(grads[i]));
      if (!fresh) slot->second = slot->second + grads[i];
    }
  }
  if (!retain_graph)  // the nodes no gradient reached
    for (Node<T>* node : order) node->release_saved();
}

}  // namespace detail

template <Real T>
void Variable<T>::backward(bool retain_graph) const {
  ZSBIR_CHECK(numel() == 1, "backward: a gradient can be implied only for one-element outputs, got shape ",
              to_string(shape()), "; pass the gradient explicitly");
  backward(Tensor<T>::ones(shape(), data().device()), retain_graph);
}

template <Real T>
void Variable<T>::backward(const Tensor<T>& grad, bool retain_graph) const {
  ZSBIR_CHECK(requires_grad(), "backward: this variable does not require grad and has no grad_fn");
  ZSBIR_CHECK(grad.shape() == shape(), "backward: gradient of shape ", to_string(grad.shape()),
              " given for a variable of shape ", to_string(shape()));
  detail::run_backward(gradient_edge(), grad, retain_graph);
}

}  // namespace zsbir
