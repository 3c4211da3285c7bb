#!/usr/bin/env bash
# End-to-end run of the programs on a tiny generated dataset: make_dataset, train a few steps with a
# stop and an exact resume, evaluate (metrics, grids, HTML report), retrieve, and the bad-input cases
# a user meets first. Usage: end_to_end.sh BUILD_EXAMPLES_DIR WORK_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

data=$work/data
"$bin/make_dataset" --out "$data" --size 32 --photos_per_class 6 --sketches_per_class 6 >/dev/null

flags=(--backbone densenet_small --image_size 32 --batch_size 8 --lr 1e-3 --seed 3
        --print_every 1 --workers 2 --domain_width 32 --grl_warmup_epochs 0 --grl_threshold_epoch 2)
common=(--data_dir "$data" "${flags[@]}")

# Straight: 2 epochs. Split: stop after 3 steps (mid-epoch), then resume to the end.
"$bin/train" "${common[@]}" --epochs 2 --checkpoint_dir "$work/straight" >"$work/straight.log"
"$bin/train" "${common[@]}" --epochs 2 --max_steps 3 --checkpoint_dir "$work/split" >"$work/split1.log"
[[ -f $work/split/interrupted.safetensors ]] || fail "no interrupted.safetensors after --max_steps"
"$bin/train" "${common[@]}" --epochs 2 --checkpoint_dir "$work/split" --resume "$work/split/interrupted.safetensors" \
  >"$work/split2.log"
grep -q "resumed from" "$work/split2.log" || fail "the resumed run did not say where it resumed from"
epochs=("$work/straight"/epoch_*.safetensors)
last=$(basename "${epochs[-1]}")
[[ -f $work/split/$last ]] || fail "the resumed run wrote no $last"
cmp "$work/straight/$last" "$work/split/$last" || fail "stop + resume differs from a straight run ($last)"
echo "ok: stop at step 3 + resume gives a byte-identical $last"
grep -q '"val_map"' "$work/straight/metrics.jsonl" || fail "metrics.jsonl has no validation line"
# --device auto: a GPU when one can be used, else the CPU with the reason on the device line.
grep -Eq '^device: (cpu, [0-9]+ threads \(CUDA is not used: .+\)|cuda:[0-9]+, .+)$' "$work/straight.log" ||
  fail "train did not say which device it chose and why: $(grep -m1 '^device' "$work/straight.log")"
# --device cuda: runs on the GPU, or stops with the reason; never a silent CPU run.
rc=0
"$bin/train" "${common[@]}" --epochs 1 --max_steps 1 --device cuda --checkpoint_dir "$work/cuda" >"$work/cuda.log" 2>&1 ||
  rc=$?
if [[ $rc == 0 ]]; then
  grep -q '^device: cuda:0, ' "$work/cuda.log" || fail "train --device cuda succeeded but did not run on cuda:0"
else
  grep -q -- "--device asks for cuda:0, which cannot be used: device cuda:0 is not available: " "$work/cuda.log" ||
    fail "train --device cuda failed without saying why: $(cat "$work/cuda.log")"
fi
echo "ok: the device line says why ($(grep -m1 '^device' "$work/straight.log"))"
[[ -f $work/straight/best.safetensors ]] || fail "no best.safetensors"

# The recipe options beyond the reference resume exactly too (augmentation, class and word heads,
# normalised embeddings, the cosine schedule and the per-step GRL ramp all depend on the step alone),
# and evaluate rebuilds the model with its heads and normalisation from the checkpoint.
recipe=(--class_loss_ratio 1 --word_loss_ratio 0.5 --normalize_embeddings --margin 0.3 --augment
        --lr_schedule cosine --warmup_steps 2 --grl_by_step)
"$bin/train" "${common[@]}" "${recipe[@]}" --epochs 2 --checkpoint_dir "$work/recipe" >"$work/recipe.log"
grep -q "class .* word " "$work/recipe.log" || fail "the recipe run logs no class and word losses"
"$bin/train" "${common[@]}" "${recipe[@]}" --epochs 2 --max_steps 5 --checkpoint_dir "$work/recipe_split" \
  >"$work/recipe_split1.log"
"$bin/train" "${common[@]}" "${recipe[@]}" --epochs 2 --checkpoint_dir "$work/recipe_split" --resume \
  >"$work/recipe_split2.log"
cmp "$work/recipe/$last" "$work/recipe_split/$last" || fail "recipe: stop + resume differs from a straight run"
echo "ok: with every recipe option, stop at step 5 + resume gives a byte-identical $last"
"$bin/evaluate" --data "$data" --model "$work/recipe/best.safetensors" --output_dir "$work/recipe_eval" \
  --compare_untrained --num_sketches 1 --num_images 2 --batch_size 16 >"$work/recipe_eval.log"
grep -q "trained/untrained" "$work/recipe_eval.log" || fail "evaluate of the recipe model printed no comparison"
echo "ok: evaluate rebuilt the recipe model from its checkpoint"

# Ctrl-C: the run finishes its step, saves interrupted.safetensors and exits 0.
"$bin/train" "${common[@]}" --epochs 50 --checkpoint_dir "$work/sigint" >"$work/sigint.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "^epoch 1 step" "$work/sigint.log" 2>/dev/null && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid" || fail "train exited $? after SIGINT"
[[ -f $work/sigint/interrupted.safetensors ]] || fail "no interrupted.safetensors after SIGINT"
echo "ok: SIGINT finished the step and saved interrupted.safetensors"

# Evaluate the trained model, then retrieve with it.
"$bin/evaluate" --data "$data" --model "$work/straight/best.safetensors" --output_dir "$work/eval" \
  --num_sketches 2 --num_images 4 --batch_size 16 >"$work/eval.log"
for f in metrics.json report.html Sketch_0.png Images_0.png; do
  [[ -s $work/eval/$f ]] || fail "evaluate wrote no $f"
done
grep -q '"map"' "$work/eval/metrics.json" || fail "metrics.json has no mAP"
sketches=("$data"/sketches/*/*)
sketch=${sketches[0]}
"$bin/retrieve" --sketch "$sketch" --photos "$data/photos" --model "$work/straight/best.safetensors" --top_k 3 \
  --output "$work/retrieved.png" >"$work/retrieve.log"
[[ -s $work/retrieved.png ]] || fail "retrieve wrote no grid"
echo "ok: evaluate and retrieve ran"

# Bad inputs: each one clear error naming the thing.
expect_error 2 "data_dir" "$bin/train" --data_dir "$work/nowhere"
expect_error 2 "batch_size" "$bin/train" "${common[@]}" --batch_size abc --checkpoint_dir "$work/x"
mkdir -p "$work/bad"
cp -r "$data"/. "$work/bad/"
photo_dirs=("$work/bad/photos"/*/)
printf 'not an image' >"${photo_dirs[0]}broken.jpg"
expect_error 1 "broken.jpg" "$bin/train" "${flags[@]}" --data_dir "$work/bad" --checkpoint_dir "$work/x" --max_steps 1
rm -rf "$work/bad/sketches/$(head -1 "$work/bad/train_labels.txt")"
expect_error 1 "$(head -1 "$work/bad/train_labels.txt")" "$bin/train" "${flags[@]}" --data_dir "$work/bad" \
  --checkpoint_dir "$work/x" --max_steps 1
head -c 1000 "$work/straight/best.safetensors" >"$work/truncated.safetensors"
expect_error 1 "truncated.safetensors" "$bin/evaluate" --data "$data" --model "$work/truncated.safetensors" \
  --output_dir "$work/eval2"
echo "end_to_end: all checks passed"
