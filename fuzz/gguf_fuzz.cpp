// libFuzzer entry: any byte string must parse or fail cleanly; a parsed file's config/weights load
// must also fail cleanly or succeed.
#include <cstddef>
#include <cstdint>

#include "format/gguf.h"
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
  return 0;
}
