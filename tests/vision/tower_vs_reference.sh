#!/usr/bin/env bash
# The vision tower of `pocket encode` against the torch reference (tests/reference/vision_tower_ref.py)
# on a random-weight synthetic mmproj and a random pixel tensor.
# With IMAGE, pocket encodes the image file itself (decode + preprocessing + tower) and the reference
# runs on the pixel tensor pocket wrote with --preprocessed-out (HEIGHT/WIDTH are then ignored).
# usage: tower_vs_reference.sh POCKET PYTHON VARIANT SIZE TYPE HEIGHT WIDTH MAX_ABS WORKDIR [IMAGE]
set -euo pipefail
pocket=$1 python=$2 variant=$3 size=$4 type=$5 height=$6 width=$7 tol=$8 work=$9 image=${10:-}
ref_dir=$(cd "$(dirname "$0")/../reference" && pwd)
mkdir -p "$work"
tag="$variant-$size-$type-${height}x$width"
mmproj="$work/mmproj-$variant-$size-$type.gguf"
# Full-size towers are hundreds of MB: do not leave them in the build tree.
if [ "$size" = full ]; then trap 'rm -f "$mmproj"' EXIT; fi
"$pocket" synth-mmproj --variant "$variant" --size "$size" --type "$type" --seed 7 -q -o "$mmproj"
if [ -n "$image" ]; then
  read -r height width _ < <("$pocket" preprocess-image --image "$image")
  tag="$variant-$size-$type-$(basename "$(dirname "$(dirname "$image")")")"
  n_pocket=$("$pocket" encode --mmproj "$mmproj" --image "$image" --preprocessed-out "$work/pixels-$tag.f32" \
             --out "$work/pocket-$tag.f32" 2>/dev/null)
else
  "$python" -c "
import numpy as np
rng = np.random.default_rng(1234)
rng.random((3, $height, $width), dtype=np.float32).astype('<f4').tofile('$work/pixels-$tag.f32')"
  n_pocket=$("$pocket" encode --mmproj "$mmproj" --pixels "$work/pixels-$tag.f32" --pixels-size "${height}x$width" \
             --out "$work/pocket-$tag.f32" 2>/dev/null)
fi
n_ref=$("$python" "$ref_dir/vision_tower_ref.py" --mmproj "$mmproj" --pixels "$work/pixels-$tag.f32" \
        --height "$height" --width "$width" --out "$work/ref-$tag.f32")
if [ "$n_pocket" != "$n_ref" ]; then
  echo "soft-token count differs: pocket $n_pocket, reference $n_ref"
  exit 1
fi
"$python" - "$work/pocket-$tag.f32" "$work/ref-$tag.f32" "$tol" "$n_ref" <<'PY'
import sys
import numpy as np
a = np.fromfile(sys.argv[1], dtype="<f4")
b = np.fromfile(sys.argv[2], dtype="<f4")
tol = float(sys.argv[3])
if a.shape != b.shape:
    sys.exit("shape differs: pocket %s, reference %s" % (a.shape, b.shape))
diff = float(np.abs(a - b).max())
print("soft tokens %s, values %d, max |pocket - reference| = %.3g (tolerance %g), max |reference| = %.3g"
      % (sys.argv[4], a.size, diff, tol, float(np.abs(b).max())))
if not np.isfinite(a).all() or diff > tol:
    sys.exit("FAIL")
PY
