#!/usr/bin/env bash
# The recipe table of docs/recipes.md: every recipe trains densenet_small at 64x64 for the same
# wall-clock budget, then evaluate --compare_untrained scores it on the dataset's unseen classes.
# Prints one Markdown row per run as it finishes, and the whole table at the end.
#
#   benchmarks/recipes.sh [--build DIR] [--out DIR] [--budget SECONDS] [--seeds "0 1"]
#                         [--datasets "emoji synthetic"] [--recipes "seed zsbir ..."]
#
# Recipes: seed (the reference's flags), each option alone on top of it (augment, class, word,
# norm, lr, cosine, grl_by_step) and zsbir (train --recipe zsbir). A missing dataset folder is
# generated with make_dataset. Runs one job at a time: the budget is wall-clock, so give it the machine.
# Rows are appended to OUT/table.md, so a long table can be run in parts into one --out; cosine decays
# over the epochs the seed run reached, so it needs seed earlier in the list or a seed run in --out.
set -euo pipefail

build=build out=runs/recipes budget=300 seeds="0 1" datasets="emoji synthetic"
recipes="seed augment class word norm lr cosine grl_by_step zsbir"
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --datasets) datasets=$2; shift 2 ;;
    --recipes) recipes=$2; shift 2 ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;  # the header comment, however long
    *) echo "recipes.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
bin=$build/examples
for program in make_dataset train evaluate; do
  [[ -x $bin/$program ]] || { echo "recipes.sh: $bin/$program is missing; build it first" >&2; exit 1; }
done

flags_of() {  # the flags a recipe adds to the reference's (cosine's epochs are set in the loop)
  case $1 in
    seed) ;;
    augment) echo --augment ;;
    class) echo --class_loss_ratio 1 ;;
    word) echo --word_loss_ratio 1 ;;
    norm) echo --normalize_embeddings --margin 0.3 ;;
    lr) echo --lr 1e-3 ;;
    cosine) echo --lr_schedule cosine --warmup_steps 50 ;;
    grl_by_step) echo --grl_by_step ;;
    zsbir) echo --recipe zsbir ;;
    *) echo "recipes.sh: unknown recipe $1" >&2; exit 2 ;;
  esac
}

mkdir -p "$out"
table=$out/table.md
if [[ ! -s $table ]]; then
  echo "| dataset | recipe | seed | steps | img/s | unseen mAP@all | x chance | untrained | P@100 |" >"$table"
  echo "|---|---|---|---|---|---|---|---|---|" >>"$table"
fi

steps_of() {  # the steps a finished run's train log says it took (budget reached, or all epochs done)
  local steps
  steps=$(grep -o 'reached at step [0-9]*' "$1" | awk '{print $4}')
  echo "${steps:-$(grep -o '^done in .*: [0-9]* steps' "$1" | awk '{print $(NF-1)}')}"
}

epochs_reached() {  # the epochs a finished run's log shows it started (steps rounded up to whole epochs)
  local log=$1 steps per_epoch
  steps=$(steps_of "$log")
  per_epoch=$(grep -o '([0-9]* per epoch' "$log" | tr -d '(' | awk '{print $1}')
  [[ -n $steps && -n $per_epoch ]] || { echo "recipes.sh: $log does not say its steps and steps per epoch" >&2; exit 1; }
  echo $(((steps + per_epoch - 1) / per_epoch))
}
for dataset in $datasets; do
  data=data/$dataset
  [[ -d $data ]] || "$bin/make_dataset" --dataset "$dataset" --out "$data"
  for seed in $seeds; do
    seed_epochs=
    [[ -s $out/$dataset-seed-$seed.train.log && " $recipes " != *" seed "* ]] &&
      seed_epochs=$(epochs_reached "$out/$dataset-seed-$seed.train.log")
    for recipe in $recipes; do
      [[ $recipe == cosine && -z $seed_epochs ]] &&
        { echo "recipes.sh: cosine needs the seed run's epochs: put seed before it or keep a seed run in $out" >&2; exit 2; }
      run=$out/$dataset-$recipe-$seed
      rm -rf "$run"
      # Every run stops at the budget; cosine decays over the epochs the seed run reached in it.
      epochs=1000
      [[ $recipe == cosine ]] && epochs=$seed_epochs
      # shellcheck disable=SC2046
      "$bin/train" --data_dir "$data" --checkpoint_dir "$run" --backbone densenet_small --image_size 64 \
        --domain_width 256 --epochs "$epochs" --seed "$seed" --print_every 50 --time_budget "$budget" \
        $(flags_of "$recipe") >"$run.train.log" 2>&1 ||
        { echo "recipes.sh: train failed, see $run.train.log" >&2; exit 1; }
      "$bin/evaluate" --data "$data" --model "$run/best.safetensors" --output_dir "$run/eval" \
        --compare_untrained >"$run.eval.log" 2>&1 || { echo "recipes.sh: evaluate failed, see $run.eval.log" >&2; exit 1; }
      steps=$(steps_of "$run.train.log")
      [[ $recipe == seed ]] && seed_epochs=$(epochs_reached "$run.train.log")
      ips=$(grep -o '[0-9.]* img/s' "$run.train.log" | tail -1 | awk '{print $1}')
      row=$(/usr/bin/env python3 - "$run/eval/metrics.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
chance, untrained = m["chance"]["map_all"], m["untrained"]["map"]
print(f'{m["map_all"]:.4f} | {m["map_all"] / chance:.2f} | {untrained:.4f} | {m["precision_at"]["100"]:.4f}')
EOF
)
      echo "| $dataset | $recipe | $seed | $steps | $ips | $row |" | tee -a "$table"
    done
  done
done
echo
cat "$table"
