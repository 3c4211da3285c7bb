// Adam and SGD against numbers PyTorch produced, the fused kernels against naive references on a
// parameter big enough for the OpenMP path, option validation, state dicts, and the GRL schedule.
#include "file_helpers.hpp"
#include "helpers.hpp"
#include "reference/naive_optim.hpp"
#include "zsbir/optim/adam.hpp"
#include "zsbir/optim/lr_schedule.hpp"
#include "zsbir/optim/schedule.hpp"
#include "zsbir/optim/sgd.hpp"

namespace {

using namespace zsbir;
using optim::Adam;
using optim::AdamOptions;
using optim::SGD;
using optim::SGDOptions;

// The problem of tests/reference/make_optim_fixture.py: p1 (2,3) and p2 (5) get g = c * w * (p - t)
// with c = 1, 0.1, 0.6 over three steps; p3 never gets a gradient.
template <class T>
struct Problem {
  Variable<T> p1{Tensor<T>::from_vector({0.5, -1.2, 2.0, 0.3, 0.8, -0.7}, {2, 3}), true};
  Variable<T> p2{Tensor<T>::from_vector({1.0, -2.0, 0.25, 3.0, -0.6}), true};
  Variable<T> p3{Tensor<T>::from_vector({4.0, -4.0}), true};
  Tensor<T> t1 = Tensor<T>::from_vector({0.1, 0.2, -0.3, 1.0, -0.5, 0.4}, {2, 3});
  Tensor<T> w1 = Tensor<T>::from_vector({1.0, 2.0, 0.5, 1.5, 0.8, 3.0}, {2, 3});
  Tensor<T> w2 = Tensor<T>::from_vector({0.7, 1.1, 2.0, 0.3, 1.6});

  std::vector<Variable<T>> params() const { return {p1, p2, p3}; }

  template <class Opt>
  void run(Opt& opt) {
    for (double c : {1.0, 0.1, 0.6}) {
      opt.zero_grad();
      p1.grad() = w1 * (p1.data() - t1) * c;
      p2.grad() = w2 * p2.data() * c;
      opt.step();
    }
  }
};

template <class T>
Tensor<T> vec(const std::vector<double>& v, const Shape& shape) {
  std::vector<T> out(v.begin(), v.end());
  return Tensor<T>::from_vector(out, shape);
}

template <class T>
constexpr double kTol = std::is_same_v<T, double> ? 1e-12 : 2e-5;  // float: rounding over three steps

template <class Opt, class T>
void check_p3_untouched(const Opt& opt, const Problem<T>& pr) {
  CHECK(pr.p3.data().to_vector() == std::vector<T>{4, -4});
  CHECK(opt.has_state(0));
  CHECK(!opt.has_state(2));
}

using test::error_of;

}  // namespace

// Expected numbers: printed by tests/reference/make_optim_fixture.py (PyTorch 1.13, float64).

TEST_CASE_TEMPLATE("Adam matches PyTorch over three steps", T, double, float) {
  Problem<T> pr;
  Adam<T> opt(pr.params(), {.lr = 0.1});
  pr.run(opt);
  CHECK_CLOSE(pr.p1.data(), vec<T>({0.2540433047652362, -0.9463558998036954, 1.7453863151963747, 0.5508884549276488, 0.5465535128966647, -0.447067115752587}, {2, 3}), kTol<T>, kTol<T>);
  CHECK_CLOSE(pr.p2.data(), vec<T>({0.7474092111621267, -1.745607281313051, 0.012621055506690917, 2.74504885739117, -0.3501227262353598}, {5}), kTol<T>, kTol<T>);
  const auto& s = opt.state(0);
  CHECK(s.step == 3);
  CHECK_CLOSE(s.exp_avg, vec<T>({0.048756831896092666, -0.3973677391931686, 0.16683629752184767, -0.14056929414549724, 0.14694887258970765, -0.46107525355598855}, {2, 3}), kTol<T>, kTol<T>);
  CHECK_CLOSE(s.exp_avg_sq, vec<T>({0.00017923016569734287, 0.010057694585770747, 0.0017388133976142049, 0.0013332469481294733, 0.0013809889638520955, 0.013739539409648028}, {2, 3}), kTol<T>, kTol<T>);
  CHECK(!s.max_exp_avg_sq.defined());
  check_p3_untouched(opt, pr);
}

TEST_CASE_TEMPLATE("Adam with amsgrad and weight decay matches PyTorch over three steps", T, double, float) {
  Problem<T> pr;
  Adam<T> opt(pr.params(), {.lr = 0.05, .betas = {0.8, 0.5}, .eps = 1e-6, .weight_decay = 0.1, .amsgrad = true});
  pr.run(opt);
  CHECK_CLOSE(pr.p1.data(), vec<T>({0.38157250345370025, -1.0823649111676816, 1.8755566843455462, 0.41181744065705317, 0.6808493506574288, -0.5839014505102921}, {2, 3}), kTol<T>, kTol<T>);
  CHECK_CLOSE(pr.p2.data(), vec<T>({0.878049867790416, -1.8794734855813733, 0.1377308817600772, 2.8692128072637164, -0.4830314028106768}, {5}), kTol<T>, kTol<T>);
  const auto& s = opt.state(0);
  CHECK(s.step == 3);
  CHECK_CLOSE(s.exp_avg, vec<T>({0.11674297697802874, -0.7741174477689344, 0.3932027495733391, -0.24469978794870084, 0.3025862654276598, -0.8713599796524755}, {2, 3}), kTol<T>, kTol<T>);
  CHECK_CLOSE(s.exp_avg_sq, vec<T>({0.05375839070934691, 2.537313849264633, 0.6178313278180569, 0.26659025070308373, 0.37971040571127407, 3.253120299231293}, {2, 3}), kTol<T>, kTol<T>);
  CHECK_CLOSE(s.max_exp_avg_sq, vec<T>({0.10125, 4.263199999999999, 0.9112499999999998, 0.5201999999999998, 0.6272000000000001, 5.678450000000001}, {2, 3}), kTol<T>, kTol<T>);
  // The second moment fell after the first step, so the running maximum is what the update used.
  CHECK(s.max_exp_avg_sq.at({0, 0}) > 1.5 * s.exp_avg_sq.at({0, 0}));
  check_p3_untouched(opt, pr);
}

TEST_CASE_TEMPLATE("SGD without momentum matches PyTorch over three steps", T, double, float) {
  Problem<T> pr;
  SGD<T> opt(pr.params(), {.lr = 0.1});
  pr.run(opt);
  CHECK_CLOSE(pr.p1.data(), vec<T>({0.435016, -0.765888, 1.80885275, 0.46667175, 0.629483264, -0.2124579999999999}, {2, 3}), kTol<T>, kTol<T>);
  CHECK_CLOSE(pr.p2.data(), vec<T>({0.88470342, -1.64423228, 0.17248, 2.84904714, -0.448326144}, {5}), kTol<T>, kTol<T>);
  CHECK(!opt.state(0).momentum_buffer.defined());
  CHECK(opt.state_dict().empty());
  check_p3_untouched(opt, pr);
}

TEST_CASE_TEMPLATE("SGD with momentum, dampening and weight decay matches PyTorch over three steps", T, double, float) {
  Problem<T> pr;
  SGD<T> opt(pr.params(), {.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01});
  pr.run(opt);
  CHECK_CLOSE(pr.p1.data(), vec<T>({0.365686692845, -0.30630010734799995, 1.60366894778, 0.637823677992, 0.45076115639200004, 0.3093308807370002}, {2, 3}), kTol<T>, kTol<T>);
  CHECK_CLOSE(pr.p2.data(), vec<T>({0.76166076656, -1.2678878847200001, 0.0902328324475, 2.67998664492, -0.28789559034599993}, {5}), kTol<T>, kTol<T>);
  CHECK_CLOSE(opt.state(0).momentum_buffer, vec<T>({0.5371425715500001, -3.3845457265199994, 1.6251285222, -1.3122135799199999, 1.40887723608, -3.59897410737}, {2, 3}), kTol<T>, kTol<T>);
  check_p3_untouched(opt, pr);
}

TEST_CASE_TEMPLATE("SGD with Nesterov momentum and weight decay matches PyTorch over three steps", T, double, float) {
  Problem<T> pr;
  SGD<T> opt(pr.params(), {.lr = 0.05, .momentum = 0.8, .weight_decay = 0.05, .nesterov = true});
  pr.run(opt);
  CHECK_CLOSE(pr.p1.data(), vec<T>({0.40953521706249996, -0.6296791562499999, 1.72492388125, 0.50547786285, 0.5716544896519999, -0.06632957328749983}, {2, 3}), kTol<T>, kTol<T>);
  CHECK_CLOSE(pr.p2.data(), vec<T>({0.8376446533, -1.51730082688, 0.14756193359375, 2.75764702572, -0.39810337530900003}, {5}), kTol<T>, kTol<T>);
  CHECK_CLOSE(opt.state(0).momentum_buffer, vec<T>({0.54724064375, -3.323759375, 1.693206875, -1.208437365, 1.3841923372000002, -3.56136724125}, {2, 3}), kTol<T>, kTol<T>);
  check_p3_untouched(opt, pr);
}

TEST_CASE("the fused kernels match naive references on a parameter large enough to run in parallel") {
  const Shape shape{5, 8001};  // 40005 elements: odd, and above the kernels' parallel grain
  Variable<double> pa(test::uniform<double>(shape, -1, 1, 1), true), ps(pa.data().clone(), true);
  std::vector<double> ra = pa.data().to_vector(), rs = ra;
  reference::AdamRef adam_ref;
  reference::SgdRef sgd_ref;
  Adam<double> adam({pa}, {.lr = 0.01, .betas = {0.85, 0.6}, .weight_decay = 0.02, .amsgrad = true});
  SGD<double> sgd({ps}, {.lr = 0.03, .momentum = 0.7, .weight_decay = 0.01, .nesterov = true});
  for (uint64_t k = 0; k < 3; ++k) {
    const Tensor<double> g = test::uniform<double>(shape, -2, 2, 10 + k) * (k == 1 ? 0.05 : 1.0);
    pa.grad() = g.clone();
    ps.grad() = g.clone();
    adam.step();
    sgd.step();
    adam_ref.update(ra, g.to_vector(), 0.01, 0.85, 0.6, 1e-8, 0.02, true);
    sgd_ref.update(rs, g.to_vector(), 0.03, 0.7, 0.0, 0.01, true);
  }
  CHECK_CLOSE(pa.data(), Tensor<double>::from_vector(ra, shape), 1e-13, 1e-12);
  CHECK_CLOSE(adam.state(0).max_exp_avg_sq, Tensor<double>::from_vector(adam_ref.v_max, shape), 1e-15, 1e-12);
  CHECK_CLOSE(ps.data(), Tensor<double>::from_vector(rs, shape), 1e-13, 1e-12);
  CHECK_CLOSE(sgd.state(0).momentum_buffer, Tensor<double>::from_vector(sgd_ref.buf, shape), 1e-13, 1e-12);
}

TEST_CASE("options are validated with PyTorch's messages") {
  Variable<float> p(Tensor<float>::zeros({3}), true);
  CHECK(error_of([&] { Adam<float>({p}, {.lr = -1}); }) == "invalid learning rate: -1");
  CHECK(error_of([&] { Adam<float>({p}, {.eps = -0.5}); }) == "invalid epsilon value: -0.5");
  CHECK(error_of([&] { Adam<float>({p}, {.betas = {1.0, 0.9}}); }) == "invalid beta parameter at index 0: 1");
  CHECK(error_of([&] { Adam<float>({p}, {.betas = {0.9, -0.1}}); }) == "invalid beta parameter at index 1: -0.1");
  CHECK(error_of([&] { Adam<float>({p}, {.weight_decay = -0.01}); }) == "invalid weight_decay value: -0.01");
  CHECK(error_of([&] { Adam<float>({p}, {.lr = std::nan("")}); }) == "invalid learning rate: nan");
  CHECK(error_of([&] { SGD<float>({p}, {.lr = -1}); }) == "invalid learning rate: -1");
  CHECK(error_of([&] { SGD<float>({p}, {.momentum = -0.5}); }) == "invalid momentum value: -0.5");
  CHECK(error_of([&] { SGD<float>({p}, {.weight_decay = -2}); }) == "invalid weight_decay value: -2");
  CHECK(error_of([&] { SGD<float>({p}, {.nesterov = true}); }) == "nesterov momentum requires a momentum and zero dampening");
  CHECK(error_of([&] { SGD<float>({p}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}); }) ==
        "nesterov momentum requires a momentum and zero dampening");
  CHECK(error_of([&] { Adam<float>({p}, {.betas = {0.0, 0.0}, .eps = 0}); }) == "(no error)");

  Adam<float> opt({p});
  CHECK(opt.lr() == 1e-3);
  CHECK(error_of([&] { opt.set_lr(-1); }) == "invalid learning rate: -1");
  opt.set_lr(0.5);
  CHECK(opt.lr() == 0.5);
}

TEST_CASE("optimizers reject empty, repeated and non-leaf parameter lists") {
  Variable<double> p(Tensor<double>::zeros({3}), true);
  CHECK(error_of([&] { Adam<double>(std::vector<Variable<double>>{}); }) == "Adam: got an empty parameter list");
  CHECK(error_of([&] { SGD<double>({p, p}); }) == "SGD: a parameter appears twice (index 1)");
  CHECK(error_of([&] { Adam<double>({{{p}, {}}, {{p}, {}}}); }) == "Adam: a parameter appears twice (index 1)");
  CHECK(error_of([&] { Adam<double>({p, p * 2.0}); }) == "Adam: can't optimize a non-leaf Variable (parameter 1)");
}

TEST_CASE("parameter groups carry their own options") {
  Problem<double> a, b;
  Adam<double> grouped(std::vector<Adam<double>::Group>{{{a.p1}, {.lr = 0.1}}, {{a.p2, a.p3}, {.lr = 0.02, .amsgrad = true}}});
  Adam<double> first({b.p1}, {.lr = 0.1}), second({b.p2, b.p3}, {.lr = 0.02, .amsgrad = true});
  a.run(grouped);
  for (double c : {1.0, 0.1, 0.6}) {
    b.p1.grad() = b.w1 * (b.p1.data() - b.t1) * c;
    b.p2.grad() = b.w2 * b.p2.data() * c;
    first.step();
    second.step();
  }
  CHECK_CLOSE(a.p1.data(), b.p1.data(), 0.0, 0.0);
  CHECK_CLOSE(a.p2.data(), b.p2.data(), 0.0, 0.0);
  CHECK(grouped.lr(0) == 0.1);
  CHECK(grouped.lr(1) == 0.02);
  CHECK(grouped.num_params() == 3);
  CHECK(grouped.state(1).max_exp_avg_sq.defined());
  CHECK(!grouped.state(0).max_exp_avg_sq.defined());
  grouped.set_lr(1, 0.5);
  CHECK(grouped.param_groups()[1].options.lr == 0.5);
  CHECK(grouped.lr(0) == 0.1);
}

TEST_CASE_TEMPLATE("state_dict and load_state_dict resume an optimizer exactly", T, double, float) {
  // SGD with dampening tells a loaded buffer from a fresh one: a fresh buffer starts as the gradient.
  auto check_resume = [](auto make) {
    Problem<T> a, b;
    auto opt_a = make(a.params());
    for (double c : {1.0, 0.3}) {
      a.p1.grad() = a.w1 * (a.p1.data() - a.t1) * c;
      a.p2.grad() = a.w2 * a.p2.data() * c;
      opt_a.step();
    }
    b.p1.data().copy_(a.p1.data());
    b.p2.data().copy_(a.p2.data());
    auto opt_b = make(b.params());
    opt_b.load_state_dict(opt_a.state_dict());
    CHECK(!opt_b.has_state(2));
    for (auto* pr : {&a, &b}) {
      pr->p1.grad() = pr->w1 * (pr->p1.data() - pr->t1) * 0.7;
      pr->p2.grad() = pr->w2 * pr->p2.data() * 0.7;
    }
    opt_a.step();
    opt_b.step();
    CHECK_CLOSE(b.p1.data(), a.p1.data(), 0.0, 0.0);
    CHECK_CLOSE(b.p2.data(), a.p2.data(), 0.0, 0.0);
  };
  check_resume([](std::vector<Variable<T>> ps) { return Adam<T>(ps, {.lr = 0.1, .amsgrad = true}); });
  check_resume([](std::vector<Variable<T>> ps) { return SGD<T>(ps, {.lr = 0.1, .momentum = 0.9, .dampening = 0.5}); });

  Problem<T> pr;
  Adam<T> opt(pr.params(), {.lr = 0.1});
  pr.run(opt);
  std::vector<std::string> keys;
  for (const auto& e : opt.state_dict()) keys.push_back(e.name);
  CHECK(keys == std::vector<std::string>{"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.1.step",
                                         "state.1.exp_avg", "state.1.exp_avg_sq"});
  CHECK(opt.state_dict()[0].is_integer());
  CHECK(opt.state_dict()[0].integer == 3);
}

TEST_CASE("an optimizer load lists every bad key in one error and changes nothing") {
  Problem<double> pr;
  Adam<double> opt(pr.params(), {.lr = 0.1});
  pr.run(opt);
  StateDict<double> sd = opt.state_dict();
  std::erase_if(sd, [](const auto& e) { return e.name == "state.1.exp_avg_sq"; });
  sd[1].tensor = Tensor<double>::zeros({6});         // state.0.exp_avg
  sd.push_back({"state.7.exp_avg", Tensor<double>::zeros({2}), 0});  // no parameter 7
  sd.push_back({"state.0.momentum_buffer", Tensor<double>::zeros({2, 3}), 0});  // not an Adam name
  sd.push_back({"lr", Tensor<double>(), 1});
  const Tensor<double> before = opt.state(0).exp_avg.clone();
  CHECK(error_of([&] { opt.load_state_dict(sd); }) ==
        "load_state_dict for Adam failed:\n"
        "  missing keys: \"state.1.exp_avg_sq\"\n"
        "  unexpected keys: \"state.7.exp_avg\", \"state.0.momentum_buffer\", \"lr\"\n"
        "  wrongly shaped keys: \"state.0.exp_avg\" (given [6], expected [2, 3])");
  CHECK_CLOSE(opt.state(0).exp_avg, before, 0.0, 0.0);
  CHECK(opt.state(0).step == 3);
}

TEST_CASE("the GRL schedule is 0 for epochs 0-4, then epoch / threshold up to 1") {
  const optim::GrlSchedule grl;  // threshold 25, as the reference's default
  CHECK(grl.at_epoch(0) == 0.0);
  CHECK(grl.at_epoch(4) == 0.0);
  CHECK(grl.at_epoch(5) == doctest::Approx(0.2).epsilon(1e-15));
  CHECK(grl.at_epoch(10) == doctest::Approx(0.4).epsilon(1e-15));
  CHECK(grl.at_epoch(25) == 1.0);
  CHECK(grl.at_epoch(30) == 1.0);
  CHECK(optim::GrlSchedule(10).at_epoch(7) == doctest::Approx(0.7).epsilon(1e-15));

  // Per step: the same ramp over fractional epochs step / steps_per_epoch.
  const int64_t spe = 40;
  CHECK(grl.at_step(0, spe) == 0.0);
  CHECK(grl.at_step(5 * spe - 1, spe) == 0.0);                                     // epoch 4.975
  CHECK(grl.at_step(5 * spe, spe) == doctest::Approx(0.2).epsilon(1e-15));         // epoch 5
  CHECK(grl.at_step(7 * spe + 10, spe) == doctest::Approx(7.25 / 25).epsilon(1e-15));
  CHECK(grl.at_step(25 * spe - 20, spe) == doctest::Approx(24.5 / 25).epsilon(1e-15));
  CHECK(grl.at_step(31 * spe, spe) == 1.0);

  CHECK(error_of([] { optim::GrlSchedule(0); }) == "GrlSchedule: threshold_epoch must be positive, got 0");
  CHECK(error_of([&] { grl.at_step(3, 0); }) == "GrlSchedule: steps_per_epoch must be positive, got 0");
  CHECK(error_of([&] { grl.at_epoch(-1); }) == "GrlSchedule: negative epoch -1");
}

TEST_CASE("learning-rate schedule: linear warm-up, then constant or a cosine down to the floor") {
  const optim::LrSchedule constant(optim::LrDecay::constant, 100);
  CHECK(constant.factor(0) == 1.0);
  CHECK(constant.factor(99) == 1.0);
  const optim::LrSchedule cosine(optim::LrDecay::cosine, 110, 10, 0.1);
  CHECK(cosine.factor(0) == doctest::Approx(0.1));  // warm-up: (step + 1) / 10, never 0
  CHECK(cosine.factor(4) == doctest::Approx(0.5));
  CHECK(cosine.factor(10) == doctest::Approx(1.0));
  CHECK(cosine.factor(60) == doctest::Approx(0.1 + 0.9 * 0.5));  // half way down the cosine
  CHECK(cosine.factor(110) == doctest::Approx(0.1));
  CHECK(cosine.factor(500) == doctest::Approx(0.1));  // past the end it stays at the floor
  for (int64_t s = 11; s < 110; ++s) CHECK(cosine.factor(s) < cosine.factor(s - 1));
  CHECK(optim::parse_lr_decay("cosine") == optim::LrDecay::cosine);
  CHECK(error_of([] { optim::parse_lr_decay("step"); }) ==
        "unknown learning-rate schedule 'step' (expected constant or cosine)");
  CHECK(error_of([] { optim::LrSchedule(optim::LrDecay::cosine, 10, 11); }) ==
        "LrSchedule: warmup_steps must be in [0, 10], got 11");
}
