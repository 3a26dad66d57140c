// libFuzzer entry: any byte string must parse or fail cleanly; a parsed file's config/weights load
// must also fail cleanly or succeed, and so must loading it as an mmproj (vision tower included, which
// then encodes one 48×48 image).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "format/gguf.h"
#include "kernels/thread_pool.h"
#include "media/mmproj.h"
#include "media/vision_tower.h"
#include "model/gemma4_config.h"
#include "model/gemma4_weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = pocket::GgufFile::parse({data, size}, "fuzz.gguf");
  if (!f) return 0;
  for (const auto& t : f->tensors()) {
    // Touch the first and last byte of each tensor: the reader promised they are in bounds.
    if (t.n_bytes > 0) {
      volatile uint8_t a = t.data[0];
      volatile uint8_t b = t.data[t.n_bytes - 1];
      (void)a;
      (void)b;
    }
  }
  auto cfg = pocket::load_gemma4_config(*f);
  if (cfg) (void)pocket::load_gemma4_weights(*f, *cfg);
  auto mm = pocket::MmprojFile::from_gguf(std::make_shared<const pocket::GgufFile>(std::move(f).value()));
  if (mm && mm->has_vision()) {
    auto tower = pocket::VisionTower::load(*mm);
    if (tower) {
      pocket::ThreadPool pool(1);
      const int64_t side = tower->cell_pixels();
      (void)tower->encode(std::vector<float>(static_cast<size_t>(3 * side * side), 0.5f), side, side, pool);
    }
  }
  return 0;
}
