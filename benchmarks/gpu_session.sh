#!/usr/bin/env bash
# What a session with a GPU runs, stage by stage; each stage logs into $OUT (default ./gpu-results) and
# the whole run's facts (GPU, driver, date, commit) go to $OUT/session.txt first.
#   build   configure build-gpu (Release, CUDA for this GPU's architecture) and build what the other
#           stages run: the CUDA suite, the benchmarks and the programs
#   test    ctest -L cuda: every kernel against its CPU twin, gradient checks on CUDA, a training step
#           and an evaluation on CUDA against the CPU's, and the CUDA consumer project
#   bench   bench_gpu (densenet121 224: training step B=32 and B=64, TF32 and full float, kernel profile;
#           inference B=256), bench_eval 12,500^2 and 100,000^2 ranked on the GPU, and PyTorch's same
#           step on the same GPU when torch with CUDA is installed (benchmarks/gpu_baseline_torch.py)
#   parity  the README's main job (built-in dataset, small DenseNet, 8 epochs) with --device cuda and
#           --device cpu for seeds 0 and 1, and each run's unseen-class mAP@all
# Usage: benchmarks/gpu_session.sh [build] [test] [bench] [parity]    (no stage: build test bench)
# Environment: OUT (results), BUILD (build folder, default build-gpu), CUDA_ARCH (default: this GPU's).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${OUT:-$PWD/gpu-results}
build=${BUILD:-build-gpu}
jobs=$(nproc)
mkdir -p "$out"
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(build test bench)

arch=${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')}
arch=${arch:-90}
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "architecture: sm_$arch"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || echo "nvidia-smi: not available"
  /usr/local/cuda/bin/nvcc --version 2>/dev/null | tail -2 || true
} | tee "$out/session.txt"

run_stage() {
  local stage=$1
  local t0=$SECONDS
  echo "=== $stage"
  case $stage in
    build)
      cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DZSBIR_CUDA=ON -DZSBIR_CUDA_ARCHITECTURES="$arch" \
        -DZSBIR_CUDA_THREADS=1 2>&1 | tee "$out/configure.log"
      cmake --build "$build" -j"$jobs" --target zsbir_cuda_tests bench_gpu bench_eval make_dataset train evaluate \
        2>&1 | tail -30 | tee "$out/build.log"
      ;;
    test)
      ctest --test-dir "$build" -L cuda --output-on-failure -j4 2>&1 | tee "$out/ctest-cuda.log"
      ;;
    bench)
      "$build/benchmarks/bench_gpu" 2>&1 | tee "$out/bench_gpu.txt"
      "$build/benchmarks/bench_eval" --device cuda --reps 3 2>&1 | tee "$out/bench_eval_12500.txt"
      "$build/benchmarks/bench_eval" --device cuda --queries 100000 --gallery 100000 --reps 3 2>&1 |
        tee "$out/bench_eval_100000.txt"
      if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
        python3 benchmarks/gpu_baseline_torch.py 2>&1 | tee "$out/torch_baseline.txt"
      else
        echo "PyTorch with CUDA is not installed: no side-by-side baseline" | tee "$out/torch_baseline.txt"
      fi
      ;;
    parity)
      local data=$out/data
      [[ -d $data ]] || "$build/examples/make_dataset" --out "$data" >/dev/null
      for device in cuda cpu; do
        for seed in 0 1; do
          local run=$out/runs/$device-$seed
          "$build/examples/train" --data_dir "$data" --checkpoint_dir "$run" --backbone densenet_small \
            --image_size 64 --batch_size 32 --lr 1e-3 --domain_width 256 --epochs 8 --seed "$seed" \
            --device "$device" >"$run.train.log" 2>&1
          "$build/examples/evaluate" --data "$data" --model "$run/best.safetensors" --output_dir "$run/eval" \
            --device "$device" >"$run.eval.log" 2>&1
          echo "$device seed $seed: $(grep -m1 '^mAP@all' "$run.eval.log")" | tee -a "$out/parity.txt"
        done
      done
      ;;
    *)
      echo "unknown stage '$stage' (build, test, bench or parity)" >&2
      return 2
      ;;
  esac
  echo "=== $stage done in $((SECONDS - t0)) s" | tee -a "$out/session.txt"
}

for stage in "${stages[@]}"; do run_stage "$stage"; done
