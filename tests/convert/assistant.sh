#!/usr/bin/env bash
# `pocket convert` on a Gemma 4 MTP drafter ("assistant", spec §10) checkpoint → a gemma4-assistant GGUF
# that llama.cpp's own loader accepts.
#
#   assistant.sh POCKET EXPORT_HF NODE ORACLE_DIR WORK
#
# A synthetic drafter (make_assistant_hf.py: 4 layers, 3 local + 1 global, k_eq_v, hidden 96, backbone
# 128, with the unused k/v projections and an E-series centroid head in the file) is converted to F32;
# every converted tensor must equal its HF tensor (names as llama.cpp maps them, no K/V, no
# masked_embedding), the gemma4-assistant keys must carry backbone_hidden_size and the block count, and
# llama.cpp (node-llama-cpp's libllama) must load it. A bf16 copy converted to BF16 / Q8_0 / Q4_K_M loads
# too. `pocket inspect` shows the file. Broken checkpoints (config inconsistent with the tensors) fail
# with one "pocket: error:" line naming the file and tensor or key, and leave no output file.
set -euo pipefail
pocket="$1" export_hf="$2" node="$3" oracle="$4" work="$5"
py="${NUMPY_PYTHON:-/usr/bin/python3}"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
mkdir -p "$work"

# The tokenizer files come from a tiny exported E2B checkpoint (the drafter shares its target's vocabulary).
"$pocket" synth --variant e2b --size tiny --type f32 -q -o "$work/target.gguf"
"$export_hf" --gguf "$work/target.gguf" --out "$work/target" --dtype f32 --arch causal
"$py" "$here/make_assistant_hf.py" --tokenizer-from "$work/target" --out "$work/hf" --with-kv --ordered-embeddings
"$pocket" convert "$work/hf" -o "$work/assistant.gguf" --type f32 --threads 2

# Tensors and keys, against the checkpoint.
"$py" - "$work/hf" "$work/assistant.gguf" "$here/../reference" <<'EOF'
import re, sys
import numpy as np
sys.path.insert(0, sys.argv[3])
from gguf_read import GgufFile
from gemma4_text_ref import Checkpoint
hf, g = Checkpoint(sys.argv[1], np.float32), GgufFile(sys.argv[2])
layer = {"input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
         "self_attn.o_proj.weight": "attn_output.weight", "self_attn.q_norm.weight": "attn_q_norm.weight",
         "post_attention_layernorm.weight": "post_attention_norm.weight",
         "pre_feedforward_layernorm.weight": "ffn_norm.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
         "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight",
         "post_feedforward_layernorm.weight": "post_ffw_norm.weight", "layer_scalar": "layer_output_scale.weight"}
names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
         "pre_projection.weight": "nextn.pre_projection.weight",
         "post_projection.weight": "nextn.post_projection.weight"}
fails, expected = [], {"rope_freqs.weight"}
for n in hf.where:
    m = re.match(r"model\.layers\.(\d+)\.(.*)", n)
    gn = names.get(n) or (f"blk.{m.group(1)}.{layer[m.group(2)]}" if m and m.group(2) in layer else None)
    if gn is None:
        continue  # k/v projections, k_norm, masked_embedding: must not be in the file (checked below)
    expected.add(gn)
    if not g.has(gn):
        fails.append(f"missing {gn}")
    elif not np.array_equal(g.tensor(gn).reshape(-1), hf.get(n).reshape(-1)) or g.tensors[gn][0][::-1] != \
            list(hf.get(n).shape or [1]):
        fails.append(f"{gn} differs from {n}")
extra = set(g.tensors) - expected
if extra:
    fails.append(f"unexpected tensors {sorted(extra)}")
md = g.metadata
want = {"general.architecture": "gemma4-assistant", "gemma4-assistant.embedding_length_out": 128,
        "gemma4-assistant.nextn_predict_layers": 4, "gemma4-assistant.block_count": 4,
        "gemma4-assistant.embedding_length": 96, "gemma4-assistant.attention.shared_kv_layers": 4,
        "gemma4-assistant.attention.key_length": 64, "gemma4-assistant.attention.key_length_swa": 32,
        "gemma4-assistant.attention.sliding_window": 16, "tokenizer.ggml.model": "gemma4"}
for k, v in want.items():
    if md.get(k) != v:
        fails.append(f"{k} = {md.get(k)!r}, expected {v!r}")
if [k for k in md if k.startswith("gemma4.")]:
    fails.append("gemma4.* keys in an assistant file")
print("\n".join(f"FAIL {f}" for f in fails) or
      f"assistant: {len(g.tensors)} tensors equal the checkpoint's, gemma4-assistant keys as expected")
sys.exit(1 if fails else 0)
EOF

# llama.cpp's loader accepts it (it refuses missing, extra or mis-shaped tensors and missing keys).
"$node" "$oracle/llama_load.mjs" "$work/assistant.gguf" --expect-arch gemma4-assistant
"$py" "$here/make_assistant_hf.py" --tokenizer-from "$work/target" --out "$work/hf16" --dtype bf16
for t in auto q8_0 q4_k_m; do
  "$pocket" convert "$work/hf16" -o "$work/assistant-$t.gguf" --type "$t" -q --threads 2
  "$node" "$oracle/llama_load.mjs" "$work/assistant-$t.gguf" --expect-arch gemma4-assistant
done

# pocket inspect shows it.
"$pocket" inspect "$work/assistant.gguf" >"$work/inspect.txt"
for want in "architecture gemma4-assistant" "gemma4-assistant.embedding_length_out" "nextn.pre_projection.weight" \
            "nextn.post_projection.weight"; do
  grep -qF -- "$want" "$work/inspect.txt" || { echo "FAIL pocket inspect lacks '$want'"; cat "$work/inspect.txt"; exit 1; }
done
echo "assistant: pocket inspect shows the file"

# Bad input: one error line naming the file and tensor/key, no output file.
fails=0
for case_want in "pre_projection_shape|model.safetensors: tensor 'pre_projection.weight' has shape [96, 320], expected [96, 256]" \
                 "missing_post|no tensor for nextn.post_projection.weight" \
                 "backbone_equal|config.json: backbone_hidden_size equals hidden_size" \
                 "not_all_shared|config.json: num_kv_shared_layers is 2; an assistant shares all 4"; do
  c="${case_want%%|*}" want="${case_want#*|}"
  "$py" "$here/make_assistant_hf.py" --tokenizer-from "$work/target" --out "$work/bad-$c" --break "$c" >/dev/null
  status=0
  "$pocket" convert "$work/bad-$c" -o "$work/bad-$c.gguf" 2>"$work/bad-$c.err" >/dev/null || status=$?
  if [ "$status" -ne 1 ] || [ "$(wc -l <"$work/bad-$c.err")" -ne 1 ] || ! grep -qF -- "$want" "$work/bad-$c.err" ||
     ! grep -q "^pocket: error: $work/bad-$c" "$work/bad-$c.err" || ls "$work" | grep -q "^bad-$c.gguf"; then
    echo "FAIL $c (exit $status):"; cat "$work/bad-$c.err"; fails=$((fails + 1))
  else
    echo "ok   $c: $(cat "$work/bad-$c.err")"
  fi
done
[ "$fails" -eq 0 ]
rm -rf "$work"
echo "assistant: ok"
