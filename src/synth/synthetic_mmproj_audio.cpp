// Audio part of the synthetic mmproj (owned by the audio tower; spec §5.1 clip.audio.* keys, §5.3 a.*
// tensors). Placeholder until the audio tower lands its recipes here.
#include "synth/synthetic_mmproj.h"

namespace pocket::synth {

Status plan_audio_tensors(const MmprojOptions& opts, int64_t /*n_embd_text*/, MmprojPlan& /*plan*/) {
  return Error{"synthetic mmproj: the audio tower (" + opts.variant + ") is not available yet in this build"};
}

}  // namespace pocket::synth
