#!/usr/bin/env bash
# `pocket convert --mmproj-out` on broken checkpoints: exit status 1, exactly one line on stderr
# ("pocket: error: ..." naming the file or checkpoint and the tensor or key), and neither the model nor
# the mmproj written (no temporary left behind either).
set -euo pipefail
pocket="$1" export_hf="$2" work="$3"
rm -rf "$work"
mkdir -p "$work"
"$pocket" synth --variant e2b --size tiny --type f32 -q -o "$work/text.gguf"
"$pocket" synth-mmproj --variant e2b --audio -q -o "$work/mm.gguf"
export_good() { "$export_hf" --gguf "$work/text.gguf" --out "$work/$1" --dtype bf16 --arch cond --mmproj "$work/mm.gguf" "${@:2}"; }
export_good good
"$pocket" convert "$work/good" -o "$work/good.gguf" --mmproj-out "$work/good.mm.gguf" -q  # the unbroken one converts

fails=0
# expect NAME EXPECTED_SUBSTRING CHECKPOINT_DIR
expect() {
  local name="$1" want="$2" dir="$3" status=0
  "$pocket" convert "$dir" -o "$work/$name.gguf" --mmproj-out "$work/$name.mm.gguf" 2>"$work/$name.err" >/dev/null ||
    status=$?
  local lines; lines=$(wc -l <"$work/$name.err")
  if [ "$status" -ne 1 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$want" "$work/$name.err" ||
     ! grep -q '^pocket: error: ' "$work/$name.err" || ls "$work" | grep -q '\.partial$' ||
     [ -e "$work/$name.gguf" ] || [ -e "$work/$name.mm.gguf" ]; then
    echo "FAIL $name (exit $status, $lines line(s)):"; cat "$work/$name.err"; fails=$((fails + 1))
  else
    echo "ok   $name: $(cat "$work/$name.err")"
  fi
}

export_good missing_vision --drop model.vision_tower.encoder.layers.1.mlp.up_proj.linear.weight
expect missing_vision "missing_vision: the checkpoint has no tensor model.vision_tower.encoder.layers.1.mlp.up_proj.linear.weight (v.blk.1.ffn_up.weight" "$work/missing_vision"

export_good missing_audio --drop model.audio_tower.layers.0.self_attn.per_dim_scale
expect missing_audio "no tensor model.audio_tower.layers.0.self_attn.per_dim_scale (a.blk.0.per_dim_scale.weight" "$work/missing_audio"

rm -rf "$work/ffn_width"; cp -r "$work/good" "$work/ffn_width"
sed -i 's/"intermediate_size": 128,/"intermediate_size": 96,/' "$work/ffn_width/config.json"
expect ffn_width "model.safetensors: tensor 'model.vision_tower.encoder.layers.0.mlp.down_proj.linear.weight' has shape [64, 128], expected [64, 96]" "$work/ffn_width"

rm -rf "$work/conv_kernel"; cp -r "$work/good" "$work/conv_kernel"
sed -i 's/"conv_kernel_size": 5,/"conv_kernel_size": 3,/' "$work/conv_kernel/config.json"
expect conv_kernel "tensor 'model.audio_tower.layers.0.lconv1d.depthwise_conv1d.weight' has shape [64, 1, 5], expected [64, 1, 3]" "$work/conv_kernel"

"$export_hf" --gguf "$work/text.gguf" --out "$work/placeholder" --dtype bf16 --arch cond \
  --drop model.embed_vision.embedding_projection.weight
expect placeholder "model.safetensors: tensor 'model.vision_tower.encoder.layers.0.mlp.fc1.weight': not a Gemma 4 vision/audio tower tensor" "$work/placeholder"

"$export_hf" --gguf "$work/text.gguf" --out "$work/text_only" --dtype bf16 --arch causal
expect text_only "config.json: architecture 'Gemma4ForCausalLM' has no vision or audio tower" "$work/text_only"

rm -rf "$work/no_vision_config"; cp -r "$work/good" "$work/no_vision_config"
sed -i 's/"vision_config"/"vision_config_x"/' "$work/no_vision_config/config.json"
expect no_vision_config "config.json: no vision_config" "$work/no_vision_config"

[ "$fails" -eq 0 ] && rm -rf "$work"
exit $((fails > 0))
