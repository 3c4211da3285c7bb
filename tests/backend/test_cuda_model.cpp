// The GPU end to end: a training step of the SBIR model on CUDA against the same step on the CPU
// (losses, every gradient, the parameters after Adam), eval-mode embeddings, evaluation with the
// ranking on the GPU against the CPU's, pinned asynchronous copies, the device allocator's
// cache and its out-of-memory message, and CUDA errors as zsbir::Error. Without a GPU each case
// prints why it skips.
#include <cmath>
#include <string>
#include <vector>

#include "backend/cuda_helpers.hpp"
#include "zsbir/models/sbir_model.hpp"

namespace {

using namespace zsbir;
using models::SbirModel;

// tests/test_sbir_model.cpp's tiny model: 16-d embeddings, a domain classifier of width 6.
const models::SbirModelConfig kTiny{{4, {2, 2}, 8, 2}, 6, 2};

double max_abs(const Tensor<double>& t) {
  double m = 0;
  for (double v : t.to_vector()) m = std::max(m, std::abs(v));
  return m;
}

// Two steps of `config` with `opt` on the CPU and on `gpu` from the same start: the losses, every
// gradient, the parameters after Adam and the buffers agree; then eval-mode embeddings of CPU images
// come back on the model's device with the CPU's values.
void compare_training_steps(Device gpu, const models::SbirModelConfig& config, const models::TrainStepOptions& opt,
                            const models::TripletClasses<double>& classes) {
  Generator g1(7), g2(7);
  SbirModel<double> on_cpu(config, g1), on_gpu(config, g2);
  on_gpu.to(gpu);
  CHECK(on_gpu.device() == gpu);
  optim::Adam<double> cpu_opt(on_cpu.parameters(), {.lr = 1e-2}), gpu_opt(on_gpu.parameters(), {.lr = 1e-2});
  for (int step = 0; step < 2; ++step) {
    CAPTURE(step);
    const Tensor<double> a = test::uniform<double>({3, 3, 32, 32}, 0, 1, 10 + step),
                         p = test::uniform<double>({3, 3, 32, 32}, 0, 1, 20 + step),
                         n = test::uniform<double>({3, 3, 32, 32}, 0, 1, 30 + step);
    const auto rc = on_cpu.optimize_step(cpu_opt, a, p, n, 0.5, opt, classes);
    const auto rg = on_gpu.optimize_step(gpu_opt, a.to(gpu), p.to(gpu), n.to(gpu), 0.5, opt, classes);
    CHECK(rg.loss.item() == doctest::Approx(rc.loss.item()).epsilon(1e-9));
    CHECK(rg.triplet == doctest::Approx(rc.triplet).epsilon(1e-9));
    CHECK(rg.domain_image == doctest::Approx(rc.domain_image).epsilon(1e-9));
    CHECK(rg.domain_sketch == doctest::Approx(rc.domain_sketch).epsilon(1e-9));
    CHECK(rg.classification == doctest::Approx(rc.classification).epsilon(1e-9));
    CHECK(rg.word == doctest::Approx(rc.word).epsilon(1e-9));
    const auto pc = on_cpu.named_parameters(), pg = on_gpu.named_parameters();
    REQUIRE(pc.size() == pg.size());
    for (size_t i = 0; i < pc.size(); ++i) {
      CAPTURE(pc[i].first);
      CHECK(pg[i].second.data().device() == gpu);
      CHECK_CLOSE(pg[i].second.grad().cpu(), pc[i].second.grad(), 1e-9 * (1 + max_abs(pc[i].second.grad())), 1e-7);
      CHECK_CLOSE(pg[i].second.data().cpu(), pc[i].second.data(), 1e-9, 1e-7);
    }
    const auto bc = on_cpu.named_buffers(), bg = on_gpu.named_buffers();
    for (size_t i = 0; i < bc.size(); ++i) CHECK_CLOSE(bg[i].second.cpu(), bc[i].second, 1e-9, 1e-7);
  }
  const Tensor<double> images = test::uniform<double>({5, 3, 32, 32}, 0, 1, 40);
  const Tensor<double> e = on_gpu.embed_photos(images);
  CHECK(e.device() == gpu);
  CHECK_CLOSE(e.cpu(), on_cpu.embed_photos(images), 1e-9, 1e-7);
}

}  // namespace

TEST_CASE("a CUDA training step equals the CPU's: losses, gradients, and parameters after Adam") {
  ZSBIR_REQUIRE_GPU(gpu);
  SUBCASE("the reference's loss") { compare_training_steps(gpu, kTiny, {}, {}); }
  SUBCASE("the recipe options: normalised embeddings, class and word heads, margin") {
    models::SbirModelConfig config = kTiny;
    config.normalize_embeddings = true;
    config.num_classes = 4;
    config.word_dim = 5;
    // The word vectors stay on the CPU, as the dataset holds them; the step moves the rows it uses.
    const models::TripletClasses<double> classes{{0, 3, 1}, {2, 1, 3}, test::uniform<double>({4, 5}, -1, 1, 7)};
    compare_training_steps(gpu, config, {.class_ratio = 0.7, .word_ratio = 0.3, .margin = 0.2}, classes);
  }
}

TEST_CASE("evaluation on the GPU gives the CPU evaluation's metrics") {
  ZSBIR_REQUIRE_GPU(gpu);
  // Integer-valued embeddings: cuBLAS and Eigen compute every distance exactly, so both rankings see the
  // same ties and the metrics must agree to rounding of the sums.
  const int64_t Q = 300, G = 2001, D = 64;
  Generator gen(50);
  Tensor<float> q = Tensor<float>::empty({Q, D}), g = Tensor<float>::empty({G, D});
  for (Tensor<float>* t : {&q, &g})
    for (int64_t i = 0; i < t->numel(); ++i) t->data()[i] = static_cast<float>(int64_t(gen.below(5)) - 2);
  std::vector<int64_t> ql(Q), gl(G);
  for (int64_t i = 0; i < Q; ++i) ql[i] = i % 7;
  for (int64_t i = 0; i < G; ++i) gl[i] = (i * 5) % 7;
  retrieval::RetrievalOptions opt;
  opt.keep_top = 10;
  const retrieval::RetrievalMetrics c = retrieval::evaluate_retrieval(q, ql, g, gl, opt);
  opt.device = gpu;
  const retrieval::RetrievalMetrics d = retrieval::evaluate_retrieval(q, ql, g, gl, opt);
  CHECK(d.map == doctest::Approx(c.map).epsilon(1e-12));
  for (int64_t i = 0; i < Q; ++i) CHECK(d.ap[i] == doctest::Approx(c.ap[i]).epsilon(1e-12));
  for (size_t k = 0; k < c.precision_at.size(); ++k) CHECK(d.precision_at[k].value == c.precision_at[k].value);
  for (size_t k = 0; k < c.map_at.size(); ++k) CHECK(d.map_at[k].value == doctest::Approx(c.map_at[k].value));
  CHECK(d.top_indices == c.top_indices);
  CHECK(d.top_distances == c.top_distances);
}

TEST_CASE("pinned batches copy to the GPU asynchronously and arrive intact") {
  ZSBIR_REQUIRE_CUDA_ITSELF(gpu);
  Tensor<float> batch = Tensor<float>::empty_pinned({4, 3, 16, 16});
  CHECK(batch.is_pinned());
  batch.copy_(test::uniform<float>(batch.shape(), 0, 1, 60));
  const std::vector<float> expected = batch.to_vector();
  Tensor<float> on_gpu = batch.to(gpu, /*non_blocking=*/true);
  batch = Tensor<float>();  // released at once: its block must not be reused before the copy ran
  for (int i = 0; i < 8; ++i) Tensor<float>::empty_pinned({4, 3, 16, 16}).fill_(-1.0f);
  CHECK(on_gpu.to_vector() == expected);
}

TEST_CASE("the device allocator reuses blocks, keeps statistics, and names sizes when out of memory") {
  ZSBIR_REQUIRE_CUDA_ITSELF(gpu);
  DeviceRuntime& r = runtime_for(gpu);
  { Tensor<float> warm = Tensor<float>::empty({1 << 20}, gpu); }
  const AllocatorStats s0 = r.allocator_stats(gpu.index);
  for (int i = 0; i < 10; ++i) Tensor<float>::full({1 << 20}, float(i), gpu);
  const AllocatorStats s1 = r.allocator_stats(gpu.index);
  CHECK(s1.system_allocs == s0.system_allocs);
  CHECK(s1.cache_hits >= s0.cache_hits + 10);
  CHECK(s1.in_use == s0.in_use);
  const size_t huge = size_t(1) << 50;
  CHECK_THROWS_WITH_AS(Storage::allocate(huge, gpu),
                       doctest::Contains(("CUDA out of memory on cuda:0: a tensor of 1.0 PiB (" + std::to_string(huge) +
                                          " bytes) does not fit in the limit: ").c_str()),
                       OutOfMemoryError);
  CHECK(Tensor<float>::ones({3}, gpu).to_vector() == std::vector<float>{1, 1, 1});  // still usable afterwards
}

TEST_CASE("a failing library call is a zsbir::Error with the call, the file and line, and its message") {
  ZSBIR_REQUIRE_CUDA_ITSELF(gpu);
  const Tensor<float> a = Tensor<float>::ones({4, 4}, gpu), c = Tensor<float>::empty({4, 4}, gpu);
  // lda = 1 is less than the 4 columns of A: cuBLAS refuses the call.
  CHECK_THROWS_WITH_AS(kernels<float>(gpu).gemm(false, false, 4, 4, 4, 1.0f, a.data(), 1, a.data(), 4, 0.0f, c.data(), 4),
                       doctest::Contains("cuBLAS error in cublasSgemm("), Error);
  try {
    kernels<float>(gpu).gemm(false, false, 4, 4, 4, 1.0f, a.data(), 1, a.data(), 4, 0.0f, c.data(), 4);
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("gemm.cuh:") != std::string::npos);
    CHECK(what.find("CUBLAS_STATUS_INVALID_VALUE") != std::string::npos);
  }
  CHECK(Tensor<float>::ones({2}, gpu).to_vector() == std::vector<float>{1, 1});  // the device still works
}
