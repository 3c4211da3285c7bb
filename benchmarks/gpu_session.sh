#!/usr/bin/env bash
# What a session with a GPU runs, in one call, most important first. This workplace's GPU machine has
# nvcc, cuBLAS and cuDNN (the last two as Python packages beside PyTorch) but none of our other build
# dependencies (Eigen, stb, doctest, nlohmann-json, CLI11), and a session gets 15 minutes of it, start
# included; so the programs are built on the development machine (no GPU needed) into a bundle that
# travels with the working tree, and the GPU machine only runs them:
#   here:        benchmarks/gpu_session.sh bundle     builds gpu-bundle/ (ignored by git; name it in carry)
#   on the GPU:  benchmarks/gpu_session.sh            facts test parity bench torch, into $OUT
# On a GPU machine that has the build dependencies, `build` makes the same bundle there for its own GPU.
# Stages:
#   bundle  build the programs here for sm_$CUDA_ARCH (default 90: H100/H200) with a CPU baseline every
#           x86-64 server runs (x86-64-v3, not -march=native); copy them, libgomp and BUILD.txt into
#           gpu-bundle/
#   build   the same on the GPU machine, for its own architecture and CPU
#   facts   GPU, driver, date, commit, the bundle's build, and where each CUDA library resolves: when the
#           dynamic linker misses cudart, cuBLAS or cuDNN, they are looked for in /usr/local/cuda and in
#           Python's nvidia-* packages and added to LD_LIBRARY_PATH (always runs first)
#   test    the CUDA suite (tests/backend: every kernel against its CPU twin, gradient checks on CUDA, a
#           training step and an evaluation against the CPU's) and the device-selection tests; after a
#           crash, each test case again in its own process so that one crash does not hide the rest
#   cudnn   bench_cudnn_norm_pool: our batch norm and pooling kernels beside cuDNN's on every such layer
#           of a densenet121 B=32 encoder pass, results compared first (which the backend should use)
#   parity  the README's main job (built-in dataset, small DenseNet, 8 epochs) with --device cuda for
#           seeds 0 and 1 side by side, and each run's unseen-class mAP@all (PARITY_CPU=1 also runs
#           --device cpu; the CPU's figures for the same seeds are in docs/backends.md)
#   bench   bench_gpu (densenet121 224: training step B=32 and B=64, TF32 and full float, kernel profile;
#           inference B=256), then bench_eval 12,500^2 and 100,000^2 ranked on the GPU
#   torch   PyTorch's same step and inference on the same GPU (benchmarks/gpu_baseline_torch.py)
#   eval    bench's evaluations alone
#   ncu     Nsight Compute's speed of light, launch and occupancy sections of batch norm's kernels in a
#           B=32 step (not in the default run)
# Usage: benchmarks/gpu_session.sh [stage ...]      (no stage: facts test cudnn bench torch parity)
# Environment: OUT (logs, default ./gpu-results; at most 8 files, as the GPU tool brings back), SCRATCH
# (dataset and checkpoints, default a temporary folder), BUNDLE (default gpu-bundle), CUDA_ARCH,
# LIMIT_TEST, LIMIT_CUDNN, LIMIT_PARITY, LIMIT_BENCH, LIMIT_TORCH, LIMIT_EVAL, LIMIT_NCU (seconds each
# stage may take; the defaults fit the default run in about 10 minutes). A stage that fails or runs out
# of time is marked so in session.txt and the next stage still runs; the script's status is that of the
# worst stage.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${OUT:-$PWD/gpu-results}
bundle=${BUNDLE:-$PWD/gpu-bundle}
scratch=${SCRATCH:-$(mktemp -d)}
mkdir -p "$out" "$scratch"
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(facts test cudnn bench torch parity)
programs=(zsbir_cuda_tests zsbir_tests bench_gpu bench_eval bench_cudnn_norm_pool make_dataset train evaluate retrieve)
worst=0

log() { echo "$*" | tee -a "$out/session.txt"; }

# Builds the programs into build folder $1 for architecture $2 with host flags $3, then fills the bundle.
build_bundle() {
  local folder=$1 arch=$2 march=$3
  cmake -S . -B "$folder" -DCMAKE_BUILD_TYPE=Release -DZSBIR_CUDA=ON -DZSBIR_CUDA_ARCHITECTURES="$arch" \
    -DZSBIR_NATIVE=OFF -DCMAKE_CXX_FLAGS="-march=$march" -DCMAKE_CUDA_FLAGS="-Xcompiler=-march=$march" \
    -DZSBIR_CUDA_THREADS=1 -DZSBIR_TEST_SOURCES=test_device.cpp -DCMAKE_DISABLE_FIND_PACKAGE_Freetype=ON \
    >"$out/build.log" 2>&1 || return 1
  cmake --build "$folder" -j"$(nproc)" --target "${programs[@]}" >>"$out/build.log" 2>&1 || return 1
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib"
  local p
  for p in "${programs[@]}"; do
    strip -o "$bundle/bin/$p" "$(find "$folder" -type f -name "$p" -perm -u+x | head -1)" || return 1
  done
  # A fallback only: used when the GPU machine's dynamic linker finds no libgomp of its own.
  cp -L "$(g++ -print-file-name=libgomp.so.1)" "$bundle/lib/"
  {
    echo "built: $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n)"
    echo "source: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' plus uncommitted changes')"
    echo "flags: sm_$arch, -march=$march, Release"
    grep -m1 'CUDA backend:' "$out/build.log" | sed 's/^-- //'
    echo "size: $(du -sh "$bundle" | cut -f1)"
  } >"$bundle/BUILD.txt"
  cat "$bundle/BUILD.txt"
}

# The folders holding library $1: the CUDA toolkit's, then the nvidia-* Python packages'.
find_library_dir() {
  local roots=(/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda/lib) site
  while IFS= read -r site; do roots+=("$site/nvidia"); done < <(python3 -c \
    'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null)
  local found
  found=$(find "${roots[@]}" -name "$1" -print -quit 2>/dev/null)
  [[ -n $found ]] && dirname "$found"
}

resolve_libraries() {
  local probe=$bundle/bin/zsbir_cuda_tests lib dir
  for lib in $(ldd "$probe" | awk '/not found/ {print $1}' | sort -u); do
    if [[ $lib == libgomp.so.1 ]]; then dir=$bundle/lib; else dir=$(find_library_dir "$lib"); fi
    [[ -n $dir ]] && export LD_LIBRARY_PATH=$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  done
  # cuDNN loads its engines, and may load NVRTC, by name at run time: their folders must be on the path
  # too, even when libcudnn.so.9 itself was found through an RPATH.
  for lib in libcudnn_engines_precompiled.so.9 libnvrtc.so.13; do
    dir=$(find_library_dir "$lib")
    [[ -n $dir && :${LD_LIBRARY_PATH:-}: != *:$dir:* ]] && export LD_LIBRARY_PATH=$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  done
  ldd "$probe" | grep -E 'cudart|cublas|cudnn|gomp|stdc\+\+|not found'
}

facts() {
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
  grep -m1 -E '^model name' /proc/cpuinfo
  echo "cores: $(nproc)"
  python3 -m pip show nvidia-cudnn-cu13 nvidia-cublas nvidia-cuda-runtime torch 2>/dev/null |
    grep -E '^(Name|Version)' | paste - - | sed 's/Name: //; s/\tVersion: / /'
  if [[ ! -x $bundle/bin/zsbir_cuda_tests ]]; then
    echo "no bundle at $bundle: run 'benchmarks/gpu_session.sh bundle' on the development machine and carry it"
    return 1
  fi
  echo "bundle:"
  sed 's/^/  /' "$bundle/BUILD.txt"
  echo "libraries (LD_LIBRARY_PATH: ${LD_LIBRARY_PATH:-empty}):"
  sed 's/^/  /' "$scratch/libraries.txt"
  ! grep -q 'not found' "$scratch/libraries.txt"
}

# Runs the suite in one process; after a crash or a hang, each case alone, so that one does not hide
# the rest. A case that prints "SKIPPED:" is counted: on a GPU machine none may skip.
run_suite() {
  local program=$1 log=$2 rc
  OMP_WAIT_POLICY=passive timeout 100 "$bundle/bin/$program" --duration=true >"$log" 2>&1
  rc=$?
  local summary skipped
  summary=$(grep -E '^\[doctest\] test cases' "$log" | tail -1 | tr -s ' ')
  if ((rc > 1)); then
    # Launches made blocking: a kernel's fault is then reported at that kernel, not at a later sync.
    echo "--- $program ended with status $rc: each case again on its own" >>"$log"
    local name cases=0 failed=0
    while IFS= read -r name; do
      echo "--- $name" >>"$log"
      ((cases += 1))
      CUDA_LAUNCH_BLOCKING=1 OMP_WAIT_POLICY=passive timeout 30 "$bundle/bin/$program" --test-case="${name//,/?}" >>"$log" 2>&1 ||
        { echo "--- status $?: $name" >>"$log"; ((failed += 1)); }
    done < <("$bundle/bin/$program" --list-test-cases | grep -v -E '^(\[doctest\]|====)')
    summary="crashed or hung; each case alone: $cases cases, $failed failed"
  fi
  skipped=$(grep -c '^SKIPPED:' "$log")
  log "$program: status $rc, $summary, $skipped printed SKIPPED"
  ((rc == 0 && skipped == 0))
}

suites() {
  run_suite zsbir_cuda_tests "$out/cuda-tests.log"
  local cuda=$?
  run_suite zsbir_tests "$out/device-tests.log" && ((cuda == 0))
}

# Each seed trains in its own process, side by side: one run leaves the GPU mostly idle (launch-bound).
# Each gets half the cores, so that their OpenMP threads do not contend.
parity() {
  local data=$scratch/data device seed status=0
  "$bundle/bin/make_dataset" --out "$data" >"$out/parity.log" 2>&1 || return 1
  local devices=(cuda)
  [[ ${PARITY_CPU:-0} == 1 ]] && devices+=(cpu)
  for device in "${devices[@]}"; do
    local t0=$SECONDS pids=()
    mkdir -p "$scratch/runs"
    for seed in 0 1; do
      local run=$scratch/runs/$device-$seed
      (
        export OMP_NUM_THREADS=$((($(nproc) + 1) / 2))
        "$bundle/bin/train" --data_dir "$data" --checkpoint_dir "$run" --backbone densenet_small --image_size 64 \
          --batch_size 16 --lr 1e-3 --domain_width 256 --epochs 8 --seed "$seed" --class_loss_ratio 1 \
          --normalize_embeddings --margin 0.3 --device "$device" &&
          "$bundle/bin/evaluate" --data "$data" --model "$run/best.safetensors" --output_dir "$run/eval" \
            --device "$device"
      ) >"$run.log" 2>&1 &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    for seed in 0 1; do
      local run=$scratch/runs/$device-$seed
      { echo "=== train and evaluate, $device, seed $seed"; cat "$run.log"; } >>"$out/parity.log"
      if grep -q '^mAP@all' "$run.log"; then
        log "parity $device seed $seed: $(grep -m1 '^mAP@all' "$run.log" | tr -s ' ')" \
          "(last step: $(grep -E '^epoch .* img/s' "$run.log" | tail -1 | grep -o '[0-9.]* img/s'))"
      else
        log "parity $device seed $seed: no result: $(tail -1 "$run.log")"
      fi
    done
    log "parity $device: both seeds in $((SECONDS - t0)) s"
  done
  return $status
}

bench() {
  local status=0
  if ! timeout 100 "$bundle/bin/bench_gpu" >"$out/bench_gpu.txt" 2>&1; then
    status=1
    log "bench_gpu failed: $(tail -1 "$out/bench_gpu.txt")"
  fi
  grep -E '^(train|inference|  one profiled)' "$out/bench_gpu.txt" | tee -a "$out/session.txt"
  bench_eval || status=1
  return $status
}

bench_eval() {
  if ! { timeout 15 "$bundle/bin/bench_eval" --device cuda --reps 3 &&
         timeout 55 "$bundle/bin/bench_eval" --device cuda --queries 100000 --gallery 100000 --reps 1; } \
       >"$out/bench_eval.txt" 2>&1; then
    log "bench_eval failed: $(tail -1 "$out/bench_eval.txt")"
    return 1
  fi
  grep -E '^(evaluate_retrieval|median|  its kernel profile)' "$out/bench_eval.txt" | tee -a "$out/session.txt"
}

cudnn_bench() {
  "$bundle/bin/bench_cudnn_norm_pool" >"$out/bench_cudnn_norm_pool.txt" 2>&1
  local rc=$?
  grep -E '^(all |per training step|results|bench_cudnn_norm_pool)' "$out/bench_cudnn_norm_pool.txt" |
    tee -a "$out/session.txt"
  return $rc
}

# Nsight Compute's view of batch norm's kernels in B=32 training steps: $1 names the output, $2 the
# kernels (a regex on their function names), $3 how many matching launches to skip, $4 how many to see.
ncu_run() {
  "$ncu" --clock-control none --kernel-name "regex:$2" --launch-skip "$3" --launch-count "$4" --section SpeedOfLight \
    --section LaunchStats --section Occupancy "$bundle/bin/bench_gpu" --batch_sizes 32 --steps 1 --warmup 1 --tf32 on \
    --inference_batch 0 --profile 0 >"$out/ncu-$1.txt" 2>&1
  local rc=$?
  grep -E '^  [a-z_]+<|Duration|DRAM Throughput|Compute \(SM\) Throughput|Registers Per|Achieved Occupancy|Grid Size' \
    "$out/ncu-$1.txt" | tee -a "$out/session.txt"
  return $rc
}

# Statistics and forward early in the first step (the stem and first dense layers, the largest
# tensors); backward late in it, where the first dense block's layers are.
ncu_kernels() {
  ncu=$(command -v ncu || find /usr/local/cuda*/bin /opt/nvidia -name ncu -type f 2>/dev/null | head -1)
  [[ -n $ncu ]] || { log "ncu: not found"; return 1; }
  export ncu
  ncu_run forward '^(tile_sums|tile_deviations|forward)$' 60 9 &&
    ncu_run backward '^(tile_gradient_sums|apply_gradient)$' 640 8
}

torch_baseline() {
  if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "PyTorch with CUDA is not installed: no side-by-side baseline" | tee "$out/torch_baseline.txt"
    return 1
  fi
  PYTHONUNBUFFERED=1 python3 benchmarks/gpu_baseline_torch.py >"$out/torch_baseline.txt" 2>&1
  local rc=$?
  grep '^torch' "$out/torch_baseline.txt" | tee -a "$out/session.txt"
  return $rc
}

run_stage() {
  local stage=$1 limit rc t0=$SECONDS
  log "=== $stage"
  case $stage in
    bundle) build_bundle build-gpu "${CUDA_ARCH:-90}" x86-64-v3 ;;
    build)
      local arch
      arch=${CUDA_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')}
      build_bundle build-gpu "${arch:-90}" native
      ;;
    facts)  # resolve_libraries exports LD_LIBRARY_PATH for the later stages: not in a pipeline's subshell
      [[ -x $bundle/bin/zsbir_cuda_tests ]] && resolve_libraries >"$scratch/libraries.txt" 2>&1
      facts >"$scratch/facts.txt" 2>&1
      rc=$?
      tee -a "$out/session.txt" <"$scratch/facts.txt"
      (exit $rc)
      ;;
    test)   limit=${LIMIT_TEST:-150}; timeout "$limit" bash -c suites ;;
    cudnn)  limit=${LIMIT_CUDNN:-60}; timeout "$limit" bash -c cudnn_bench ;;
    parity) limit=${LIMIT_PARITY:-130}; timeout "$limit" bash -c parity ;;
    bench)  limit=${LIMIT_BENCH:-170}; timeout "$limit" bash -c bench ;;
    torch)  limit=${LIMIT_TORCH:-80}; timeout "$limit" bash -c torch_baseline ;;
    eval)   limit=${LIMIT_EVAL:-80}; timeout "$limit" bash -c bench_eval ;;
    ncu)    limit=${LIMIT_NCU:-120}; timeout "$limit" bash -c ncu_kernels ;;
    *)
      echo "unknown stage '$stage' (bundle, build, facts, test, cudnn, parity, bench, torch, eval or ncu)" >&2
      return 2
      ;;
  esac
  rc=$?
  local verdict=done
  ((rc == 124)) && verdict="STOPPED at its limit of ${limit} s"
  ((rc != 0 && rc != 124)) && verdict="FAILED (status $rc)"
  ((rc != 0)) && worst=1
  log "=== $stage $verdict in $((SECONDS - t0)) s"
}

# The limited stages run in a child bash under timeout, which stops the whole stage at its limit.
export bundle out scratch
export -f log run_suite suites cudnn_bench parity bench bench_eval torch_baseline ncu_run ncu_kernels
for stage in "${stages[@]}"; do run_stage "$stage"; done
exit $worst
