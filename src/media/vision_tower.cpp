// The gemma4v encoder forward pass (spec §2.4–2.7), one image at a time, all in f32. Shapes:
// T = patches (grid gh × gw), d = width, nh × hd = heads, F = FFN width, n_text = projection width.
#include "media/vision_tower.h"

#include <algorithm>
#include <cmath>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "media/vision_internal.h"
#include "media/vision_weights.h"

namespace pocket {
namespace vision_detail {

void clamp_values(float* x, int64_t n, float lo, float hi) {
  for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], lo), hi);
}

void linear(const ClippedLinear& l, const float* x, int64_t n, float* y, ThreadPool& pool, Scratch& s) {
  const int64_t cols = l.w.cols, rows = l.w.rows;
  const ClipBounds& b = l.bounds;
  const float* in = x;
  if (b.active && (std::isfinite(b.input_min) || std::isfinite(b.input_max))) {
    s.clamped.assign(x, x + n * cols);
    pool.parallel_for(n, 8, [&](int64_t t0, int64_t t1, int) {
      clamp_values(s.clamped.data() + t0 * cols, (t1 - t0) * cols, b.input_min, b.input_max);
    });
    in = s.clamped.data();
  }
  matmul(l.w, in, n, y, rows, pool, s.mm);
  if (b.active && (std::isfinite(b.output_min) || std::isfinite(b.output_max))) {
    pool.parallel_for(n, 8, [&](int64_t t0, int64_t t1, int) {
      clamp_values(y + t0 * rows, (t1 - t0) * rows, b.output_min, b.output_max);
    });
  }
}

void rms_norm_rows(const float* x, std::span<const float> w, float eps, int64_t n, int64_t width, float* y,
                   ThreadPool& pool) {
  pool.parallel_for(n, 16, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) ops::rms_norm(x + t * width, w, eps, width, y + t * width);
  });
}

void project(const VisionWeights& w, const float* h, int64_t n, int64_t d, float eps, float* out, ThreadPool& pool,
             Scratch& s) {
  std::vector<float> normed(static_cast<size_t>(n * d));
  rms_norm_rows(h, {}, eps, n, d, normed.data(), pool);
  linear(w.projection, normed.data(), n, out, pool, s);
}

}  // namespace vision_detail

namespace {

using vision_detail::linear;
using vision_detail::rms_norm_rows;
using vision_detail::Scratch;

// cos/sin of the 2-D RoPE for positions 0..n-1 along one axis: [n][pairs], angle pos · θ^(−2i/m)
// with m = hd/2 the rotated half and pairs = m/2 (HF computes the inverse frequencies of one half
// independently, so both axes use the same table).
void rope_table(int64_t n, int64_t m, float theta, std::vector<float>& cos_out, std::vector<float>& sin_out) {
  const int64_t pairs = m / 2;
  cos_out.resize(static_cast<size_t>(n * pairs));
  sin_out.resize(static_cast<size_t>(n * pairs));
  for (int64_t i = 0; i < pairs; ++i) {
    const float inv_freq = 1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(m));
    for (int64_t p = 0; p < n; ++p) {
      const float angle = static_cast<float>(p) * inv_freq;
      cos_out[p * pairs + i] = std::cos(angle);
      sin_out[p * pairs + i] = std::sin(angle);
    }
  }
}

struct Grid {
  int64_t gh = 0, gw = 0;  // patches per column / row
  int64_t n() const { return gh * gw; }
};

// Patch embedding: [T][3·p·p] in conv order (channel, ky, kx) mapped to 2x−1, times the {3·p·p, d}
// conv weight, plus the learned x (column) and y (row) position rows. Out: h [T][d].
Status embed_patches(const VisionWeights& w, const MmprojVisionHparams& hp, std::span<const float> chw, int64_t height,
                     int64_t width, const Grid& g, float* h, ThreadPool& pool, Scratch& s) {
  const int64_t p = hp.patch_size, d = hp.n_embd, K = 3 * p * p, T = g.n();
  if (g.gw > w.pos_rows || g.gh > w.pos_rows) {
    return Error{"image of " + std::to_string(g.gw) + "×" + std::to_string(g.gh) +
                 " patches exceeds the vision position table (" + std::to_string(w.pos_rows) + " per side)"};
  }
  std::vector<float> patches(static_cast<size_t>(T * K));
  pool.parallel_for(T, 16, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t py = t / g.gw, px = t % g.gw;
      float* dst = patches.data() + t * K;
      for (int64_t c = 0; c < 3; ++c) {
        for (int64_t ky = 0; ky < p; ++ky) {
          const float* src = chw.data() + (c * height + py * p + ky) * width + px * p;
          for (int64_t kx = 0; kx < p; ++kx) *dst++ = 2.0f * src[kx] - 1.0f;
        }
      }
    }
  });
  matmul(w.patch_embd, patches.data(), T, h, d, pool, s.mm);
  const int64_t P = w.pos_rows;
  pool.parallel_for(T, 16, [&](int64_t t0, int64_t t1, int) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t py = t / g.gw, px = t % g.gw;
      const float* ex = w.pos_table.data() + px * d;
      const float* ey = w.pos_table.data() + (P + py) * d;
      float* ht = h + t * d;
      for (int64_t i = 0; i < d; ++i) ht[i] += ex[i] + ey[i];
    }
  });
  return {};
}

// Bidirectional multi-head attention over all T patches with scale 1 (q, k are RMS-normalized).
// u: [T][d] normalized input; out: [T][d] (before the output projection).
void attention(const VisionLayerWeights& lw, const MmprojVisionHparams& hp, const Grid& g, const float* u, float* out,
               ThreadPool& pool, Scratch& s) {
  const int64_t T = g.n(), d = hp.n_embd, nh = hp.n_head, hd = hp.head_dim, m = hd / 2, pairs = m / 2;
  s.q.resize(static_cast<size_t>(T * d));
  s.k.resize(static_cast<size_t>(T * d));
  s.v.resize(static_cast<size_t>(T * d));
  linear(lw.q, u, T, s.q.data(), pool, s);
  linear(lw.k, u, T, s.k.data(), pool, s);
  linear(lw.v, u, T, s.v.data(), pool, s);
  // Per head: q/k RMSNorm with weights, weightless v norm, RoPE on q/k (first half by column x,
  // second half by row y). Rearranged to head-major qh/kh [nh][T][hd] and transposed vt [nh][hd][T].
  s.qh.resize(static_cast<size_t>(T * d));
  s.kh.resize(static_cast<size_t>(T * d));
  s.vt.resize(static_cast<size_t>(T * d));
  const float eps = hp.eps;
  pool.parallel_for(T, 8, [&](int64_t t0, int64_t t1, int) {
    std::vector<float> tmp(static_cast<size_t>(hd));
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t py = t / g.gw, px = t % g.gw;
      const float* cx = s.rope_cos.data() + px * pairs;
      const float* sx = s.rope_sin.data() + px * pairs;
      const float* cy = s.rope_cos.data() + py * pairs;
      const float* sy = s.rope_sin.data() + py * pairs;
      for (int64_t h = 0; h < nh; ++h) {
        float* qd = s.qh.data() + (h * T + t) * hd;
        ops::rms_norm(s.q.data() + t * d + h * hd, lw.q_norm, eps, hd, qd);
        ops::rope_neox(qd, pairs, cx, sx, pairs);
        ops::rope_neox(qd + m, pairs, cy, sy, pairs);
        float* kd = s.kh.data() + (h * T + t) * hd;
        ops::rms_norm(s.k.data() + t * d + h * hd, lw.k_norm, eps, hd, kd);
        ops::rope_neox(kd, pairs, cx, sx, pairs);
        ops::rope_neox(kd + m, pairs, cy, sy, pairs);
        ops::rms_norm(s.v.data() + t * d + h * hd, {}, eps, hd, tmp.data());
        for (int64_t i = 0; i < hd; ++i) s.vt[(h * hd + i) * T + t] = tmp[static_cast<size_t>(i)];
      }
    }
  });
  // Scores are materialized for a block of queries at a time (≤ ~16M floats), so the 10,080
  // patches of a 1120-token image need ~64 MB instead of 406 MB per head (spec §2.8).
  const int64_t block = std::max<int64_t>(16, std::min<int64_t>(T, (int64_t{1} << 24) / T));
  s.scores.resize(static_cast<size_t>(block * T));
  for (int64_t h = 0; h < nh; ++h) {
    const WeightMatrix keys{GgmlType::F32, reinterpret_cast<const uint8_t*>(s.kh.data() + h * T * hd), hd, T,
                            static_cast<size_t>(hd) * sizeof(float)};
    const WeightMatrix values_t{GgmlType::F32, reinterpret_cast<const uint8_t*>(s.vt.data() + h * hd * T), T, hd,
                                static_cast<size_t>(T) * sizeof(float)};
    for (int64_t q0 = 0; q0 < T; q0 += block) {
      const int64_t nq = std::min(block, T - q0);
      matmul(keys, s.qh.data() + (h * T + q0) * hd, nq, s.scores.data(), T, pool, s.mm);
      pool.parallel_for(nq, 4, [&](int64_t r0, int64_t r1, int) {
        for (int64_t r = r0; r < r1; ++r) ops::softmax(s.scores.data() + r * T, T);
      });
      matmul(values_t, s.scores.data(), nq, out + q0 * d + h * hd, d, pool, s.mm);
    }
  }
}

// One encoder layer, in place on h [T][d]:
//   h = h + post_attn_norm(Attn(ln1(h)));  h = (h + ffn_post_norm(FFN(ln2(h)))) · out_scale.
void encoder_layer(const VisionLayerWeights& lw, const MmprojVisionHparams& hp, const Grid& g, float* h,
                   ThreadPool& pool, Scratch& s) {
  const int64_t T = g.n(), d = hp.n_embd, F = hp.n_ff;
  s.u.resize(static_cast<size_t>(T * d));
  s.attn.resize(static_cast<size_t>(T * d));
  s.proj.resize(static_cast<size_t>(T * d));
  rms_norm_rows(h, lw.ln1, hp.eps, T, d, s.u.data(), pool);
  attention(lw, hp, g, s.u.data(), s.attn.data(), pool, s);
  linear(lw.o, s.attn.data(), T, s.proj.data(), pool, s);
  rms_norm_rows(s.proj.data(), lw.attn_post_norm, hp.eps, T, d, s.proj.data(), pool);
  pool.parallel_for(T, 16, [&](int64_t t0, int64_t t1, int) {
    for (int64_t i = t0 * d; i < t1 * d; ++i) h[i] += s.proj[static_cast<size_t>(i)];
  });

  rms_norm_rows(h, lw.ln2, hp.eps, T, d, s.u.data(), pool);
  s.gate.resize(static_cast<size_t>(T * F));
  s.up.resize(static_cast<size_t>(T * F));
  linear(lw.gate, s.u.data(), T, s.gate.data(), pool, s);
  linear(lw.up, s.u.data(), T, s.up.data(), pool, s);
  // tanh-approximated GELU (HF gelu_pytorch_tanh), not llama.cpp's quick-GELU (see vision_tower.h).
  pool.parallel_for(T, 16, [&](int64_t t0, int64_t t1, int) {
    ops::geglu(s.gate.data() + t0 * F, s.up.data() + t0 * F, (t1 - t0) * F, s.gate.data() + t0 * F);
  });
  linear(lw.down, s.gate.data(), T, s.proj.data(), pool, s);
  rms_norm_rows(s.proj.data(), lw.ffn_post_norm, hp.eps, T, d, s.proj.data(), pool);
  const float scale = lw.out_scale;
  pool.parallel_for(T, 16, [&](int64_t t0, int64_t t1, int) {
    for (int64_t i = t0 * d; i < t1 * d; ++i) h[i] = (h[i] + s.proj[static_cast<size_t>(i)]) * scale;
  });
}

// k×k average pooling of the patch grid (row-major output), times sqrt(d), then the optional
// standardisation (x − std_bias) ⊙ std_scale. h: [T][d] → pooled [gh/k · gw/k][d].
std::vector<float> pool_and_standardize(const VisionWeights& w, const MmprojVisionHparams& hp, const Grid& g,
                                        const float* h) {
  const int64_t k = hp.pooling, d = hp.n_embd, oh = g.gh / k, ow = g.gw / k;
  std::vector<float> out(static_cast<size_t>(oh * ow * d), 0.0f);
  const float inv = 1.0f / static_cast<float>(k * k);
  const float root = std::sqrt(static_cast<float>(d));
  for (int64_t oy = 0; oy < oh; ++oy) {
    for (int64_t ox = 0; ox < ow; ++ox) {
      float* o = out.data() + (oy * ow + ox) * d;
      for (int64_t dy = 0; dy < k; ++dy) {
        for (int64_t dx = 0; dx < k; ++dx) {
          const float* src = h + ((oy * k + dy) * g.gw + ox * k + dx) * d;
          for (int64_t i = 0; i < d; ++i) o[i] += src[i];
        }
      }
      for (int64_t i = 0; i < d; ++i) {
        o[i] = o[i] * inv * root;
        if (!w.std_bias.empty())
          o[i] = (o[i] - w.std_bias[static_cast<size_t>(i)]) * w.std_scale[static_cast<size_t>(i)];
      }
    }
  }
  return out;
}

}  // namespace

VisionTower::VisionTower() = default;
VisionTower::VisionTower(VisionTower&&) noexcept = default;
VisionTower& VisionTower::operator=(VisionTower&&) noexcept = default;
VisionTower::~VisionTower() = default;

Result<VisionTower> VisionTower::load(const MmprojFile& mmproj) {
  auto w = load_vision_weights(mmproj);
  if (!w) return w.error();
  VisionTower t;
  t.hp_ = mmproj.vision();
  t.w_ = std::move(w.value());
  return t;
}

int64_t VisionTower::cell_pixels() const { return hp_.patch_size * hp_.pooling; }

int64_t VisionTower::n_soft_tokens(int64_t height, int64_t width) const {
  const int64_t c = cell_pixels();
  return (height / c) * (width / c);
}

Result<VisionEmbeddings> VisionTower::encode(std::span<const float> chw, int64_t height, int64_t width,
                                             ThreadPool& pool) const {
  const int64_t cell = cell_pixels();
  if (height <= 0 || width <= 0 || height % cell != 0 || width % cell != 0) {
    return Error{"vision tower: image size " + std::to_string(width) + "×" + std::to_string(height) +
                 " is not a positive multiple of " + std::to_string(cell) + " pixels per side"};
  }
  if (static_cast<int64_t>(chw.size()) != 3 * height * width) {
    return Error{"vision tower: pixel tensor has " + std::to_string(chw.size()) + " values, expected 3×" +
                 std::to_string(height) + "×" + std::to_string(width)};
  }
  // 9 × 1120 patches is the largest budget the reference accepts; allow some headroom, no more.
  constexpr int64_t kMaxPatches = 16384;
  const int64_t p = hp_.patch_size;
  const Grid g{height / p, width / p};
  if (hp_.projector == VisionProjector::kGemma4V && g.n() > kMaxPatches) {
    return Error{"vision tower: " + std::to_string(g.n()) + " patches exceed the limit of " +
                 std::to_string(kMaxPatches) + " (use a smaller --image-tokens budget)"};
  }
  VisionEmbeddings out;
  out.n_soft = n_soft_tokens(height, width);
  out.n_embd = hp_.projection_dim;
  out.rows.resize(static_cast<size_t>(out.n_soft * out.n_embd));
  Scratch s;
  if (hp_.projector == VisionProjector::kGemma4UV) {
    if (Status st = vision_detail::encode_unified(*w_, hp_, chw, height, width, out.rows.data(), pool, s); !st) {
      return st.error();
    }
    return out;
  }
  std::vector<float> h(static_cast<size_t>(g.n() * hp_.n_embd));
  if (Status st = embed_patches(*w_, hp_, chw, height, width, g, h.data(), pool, s); !st) return st.error();
  rope_table(std::max(g.gh, g.gw), hp_.head_dim / 2, hp_.rope_theta, s.rope_cos, s.rope_sin);
  for (const VisionLayerWeights& lw : w_->layers) encoder_layer(lw, hp_, g, h.data(), pool, s);
  std::vector<float> pooled = pool_and_standardize(*w_, hp_, g, h.data());
  vision_detail::project(*w_, pooled.data(), out.n_soft, hp_.n_embd, hp_.eps, out.rows.data(), pool, s);
  return out;
}

}  // namespace pocket
