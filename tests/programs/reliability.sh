#!/usr/bin/env bash
# train's reliability on a tiny generated dataset (4 steps per epoch, the GRL lambda changing every
# epoch): a run stopped and resumed three times (mid-epoch, at an epoch boundary, from a named file and
# from --resume's own choice) ends byte-identical to a straight run, with the same loss and lambda at
# every step, and so does one with the recipe's options (augmentation, GRL by step, cosine LR, heads); a non-finite loss stops the run without touching the last good checkpoint, and
# --detect_anomaly names the operation; an unusable checkpoint folder, a file-size limit and a memory
# limit fail before training, naming the folder or the size. Usage: reliability.sh BUILD_EXAMPLES_DIR WORK_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

data=$work/data
"$bin/make_dataset" --out "$data" --size 32 --photos_per_class 2 --sketches_per_class 2 >/dev/null
# On the CPU even where a GPU could be used: byte-identical resumes need its deterministic sums (GPU
# pooling gradients add with atomics), and the memory limit checked below is the CPU allocator's.
common=(--data_dir "$data" --backbone densenet_small --image_size 32 --batch_size 16 --seed 5 --print_every 1
        --workers 2 --domain_width 32 --val_fraction 0 --grl_warmup_epochs 0 --grl_threshold_epoch 2 --device cpu)
flags=("${common[@]}" --epochs 3 --lr 1e-3)

# ---- resume is exact -------------------------------------------------------------------------------
"$bin/train" "${flags[@]}" --checkpoint_dir "$work/straight" >"$work/straight.log"
grep -q "training 12 steps (4 per epoch" "$work/straight.log" || fail "expected 12 steps of 4 per epoch"
split=$work/split
"$bin/train" "${flags[@]}" --checkpoint_dir "$split" --max_steps 3 >"$work/split1.log"          # mid-epoch 1
"$bin/train" "${flags[@]}" --checkpoint_dir "$split" --max_steps 8 \
  --resume "$split/interrupted.safetensors" >"$work/split2.log"                                   # to the end of epoch 2
[[ -f $split/epoch_0002.safetensors ]] || fail "no epoch_0002.safetensors at the epoch boundary"
"$bin/train" "${flags[@]}" --checkpoint_dir "$split" --max_steps 10 --resume >"$work/split3.log"  # mid-epoch 3
grep -q "resumed from $split/epoch_0002.safetensors: epoch 2, step 8" "$work/split3.log" ||
  fail "--resume did not pick epoch_0002 (8 steps) over the older interrupted.safetensors (3 steps)"
"$bin/train" "${flags[@]}" --checkpoint_dir "$split" --resume >"$work/split4.log"                 # to the end
grep -q "resumed from $split/interrupted.safetensors: epoch 2, step 10" "$work/split4.log" ||
  fail "--resume did not pick interrupted.safetensors (10 steps) over epoch_0002 (8 steps)"
for f in epoch_0001 epoch_0002 epoch_0003 best; do
  cmp "$work/straight/$f.safetensors" "$split/$f.safetensors" || fail "stopped and resumed run differs in $f"
done
echo "ok: stopped at steps 3, 8 and 10 and resumed: every checkpoint byte-identical to the straight run"
# Every step's losses and lambda, as metrics.jsonl logs them (the throughput differs, of course).
per_step() { grep '"triplet"' "$1" | sed -E 's/,?"images_per_s":[^,}]*//'; }
diff <(per_step "$work/straight/metrics.jsonl") <(per_step "$split/metrics.jsonl") ||
  fail "the resumed run's per-step losses or lambdas differ"
lambdas=$(grep -o '"lambda":[^,}]*' "$work/straight/metrics.jsonl" | sort -u | wc -l)
[[ $lambdas -ge 3 ]] || fail "the GRL lambda took $lambdas values over 3 epochs, expected one per epoch"
echo "ok: the same losses at all 12 steps, and the same GRL lambda ($lambdas values, one per epoch)"

# The recipe's options too: augmentation, the GRL ramp by step, a cosine learning rate with warm-up,
# the auxiliary heads and normalised embeddings, stopped mid-epoch and resumed with --resume.
recipe=(--augment --grl_by_step --lr_schedule cosine --warmup_steps 2 --class_loss_ratio 0.5 --word_loss_ratio 0.5
        --normalize_embeddings --margin 0.3)
"$bin/train" "${flags[@]}" "${recipe[@]}" --checkpoint_dir "$work/recipe_straight" >"$work/recipe_straight.log"
"$bin/train" "${flags[@]}" "${recipe[@]}" --checkpoint_dir "$work/recipe_split" --max_steps 5 >"$work/recipe_split1.log"
"$bin/train" "${flags[@]}" "${recipe[@]}" --checkpoint_dir "$work/recipe_split" --resume >"$work/recipe_split2.log"
for f in epoch_0001 epoch_0002 epoch_0003 best; do
  cmp "$work/recipe_straight/$f.safetensors" "$work/recipe_split/$f.safetensors" ||
    fail "with the recipe's options, the stopped and resumed run differs in $f"
done
diff <(per_step "$work/recipe_straight/metrics.jsonl") <(per_step "$work/recipe_split/metrics.jsonl") ||
  fail "with the recipe's options, the resumed run's per-step losses, lambdas or learning rates differ"
lambdas=$(grep -o '"lambda":[^,}]*' "$work/recipe_straight/metrics.jsonl" | sort -u | wc -l)
[[ $lambdas -ge 8 ]] || fail "the GRL lambda ramped by step took only $lambdas values over 12 steps"
echo "ok: with augmentation, GRL by step, cosine LR and the heads, stop at step 5 + resume is byte-identical"

# ---- numerical faults --------------------------------------------------------------------------------
# A learning rate of 1e30 blows the weights up within a step or two of epoch 4.
cp -r "$work/straight" "$work/nan"
expect_error 1 "is untouched" "$bin/train" "${common[@]}" --epochs 4 --lr 1e30 --checkpoint_dir "$work/nan" --resume
grep -q "stopping without saving. The last good checkpoint, $work/nan/epoch_0003.safetensors, is untouched" \
  "$work/err.txt" || fail "the message does not name the last good checkpoint"
for f in epoch_0003 best; do
  cmp "$work/straight/$f.safetensors" "$work/nan/$f.safetensors" || fail "a non-finite run changed $f"
done
[[ ! -e $work/nan/epoch_0004.safetensors && ! -e $work/nan/interrupted.safetensors ]] ||
  fail "a non-finite run wrote a checkpoint"
echo "ok: a non-finite loss stops the run and leaves every checkpoint as it was"
expect_error 1 "anomaly detected: the forward of " "$bin/train" "${common[@]}" --epochs 4 --lr 1e30 \
  --checkpoint_dir "$work/nan" --resume --detect_anomaly
cmp "$work/straight/epoch_0003.safetensors" "$work/nan/epoch_0003.safetensors" || fail "--detect_anomaly changed a file"

# ---- resources -----------------------------------------------------------------------------------------
touch "$work/a_file"
expect_error 1 "cannot create the checkpoint folder '$work/a_file/run'" "$bin/train" "${flags[@]}" \
  --checkpoint_dir "$work/a_file/run"
# A file-size limit of 2 MiB, below one checkpoint, as a nearly full disk or a quota would be.
expect_error 1 "bytes to the checkpoint folder '$work/limited': File too large" \
  bash -c 'ulimit -f 2048; exec "$@"' - "$bin/train" "${flags[@]}" --checkpoint_dir "$work/limited"
grep -q "^training" "$work/out.txt" && fail "the file-size limit was found only after training started"
expect_error 1 "out of memory: a tensor of " env ZSBIR_CPU_MEMORY_LIMIT=8M "$bin/train" "${flags[@]}" \
  --checkpoint_dir "$work/memory"
grep -q "step 1 with --batch_size 16 (3 x 16 images of 32x32)" "$work/err.txt" || fail "the batch is not named"
echo "reliability: all checks passed"
