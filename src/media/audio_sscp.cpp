// Subsampling convolution projection (spec §4.3): [T][128] log-mel → [T2][d], 4× fewer frames.
#include <algorithm>
#include <cmath>

#include "media/audio_tower_internal.h"

namespace pocket::audio_internal {

void layer_norm(const float* x, const float* w, float eps, int64_t n, float* y) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<double>(n);
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<double>(n);
  const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float m = static_cast<float>(mean);
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * inv * w[i];
}

namespace {

// Output length of a 3-tap, stride-2, pad-1 convolution: floor((n + 2 − 3)/2) + 1 = ceil(n/2).
int64_t halved(int64_t n) { return (n + 1) / 2; }

// LayerNorm over the channels of every position, then ReLU. x: [positions][channels].
void norm_relu(float* x, int64_t positions, int64_t channels, const std::vector<float>& w, float eps,
               ThreadPool& pool) {
  pool.parallel_for(positions, 64, [&](int64_t b, int64_t e, int) {
    for (int64_t p = b; p < e; ++p) {
      float* row = x + p * channels;
      layer_norm(row, w.data(), eps, channels, row);
      for (int64_t c = 0; c < channels; ++c) row[c] = std::max(row[c], 0.0f);
    }
  });
}

}  // namespace

std::vector<float> subsample_features(const AudioTowerConfig& cfg, const AudioTowerWeights& w, const float* features,
                                      int64_t n_frames, ThreadPool& pool, AudioScratch& s) {
  const int64_t F0 = cfg.n_mel, T0 = n_frames;
  const int64_t c0 = cfg.sscp_c0, c1 = cfg.sscp_c1;
  const int64_t T1 = halved(T0), F1 = halved(F0);
  const int64_t T2 = halved(T1), F2 = halved(F1);

  // Layer 0: 1 → c0 channels. h1[t][f][c] = Σ_{kt,kf} conv0[c][0][kt][kf] · in[2t−1+kt][2f−1+kf].
  std::vector<float> h1(static_cast<size_t>(T1 * F1 * c0));
  pool.parallel_for(T1, 4, [&](int64_t tb, int64_t te, int) {
    float patch[9];
    for (int64_t t = tb; t < te; ++t) {
      for (int64_t f = 0; f < F1; ++f) {
        for (int kt = 0; kt < 3; ++kt) {
          for (int kf = 0; kf < 3; ++kf) {
            const int64_t ti = 2 * t - 1 + kt, fi = 2 * f - 1 + kf;
            patch[kt * 3 + kf] = (ti >= 0 && ti < T0 && fi >= 0 && fi < F0) ? features[ti * F0 + fi] : 0.0f;
          }
        }
        float* out = h1.data() + (t * F1 + f) * c0;
        for (int64_t c = 0; c < c0; ++c) {
          const float* k = w.conv0.data() + c * 9;
          float acc = 0.0f;
          for (int i = 0; i < 9; ++i) acc += k[i] * patch[i];
          out[c] = acc;
        }
      }
    }
  });
  norm_relu(h1.data(), T1 * F1, c0, w.conv0_norm, cfg.eps, pool);

  // Layer 1: c0 → c1 channels as one matrix product over im2col rows. Row (t, f) holds
  // patch[(ci·3 + kt)·3 + kf] = h1[2t−1+kt][2f−1+kf][ci], the order of conv1's [c1][c0][3][3] rows.
  // Done in tiles of kTileFrames output frames so the im2col buffer stays small (a 30-s clip would
  // need 110 MB at once).
  constexpr int64_t kTileFrames = 32;
  const int64_t K = c0 * 9;
  const WeightMatrix conv1{GgmlType::F32, reinterpret_cast<const uint8_t*>(w.conv1.data()), K, c1,
                           static_cast<size_t>(K) * sizeof(float)};
  // h2: [T2][F2][c1] — flattening per time step gives index f·c1 + c (channel fastest), as HF's
  // permute(0, 2, 3, 1) does.
  std::vector<float> h2(static_cast<size_t>(T2 * F2 * c1));
  std::vector<float>& cols = s.a;
  for (int64_t t0 = 0; t0 < T2; t0 += kTileFrames) {
    const int64_t nt = std::min(kTileFrames, T2 - t0);
    cols.assign(static_cast<size_t>(nt * F2 * K), 0.0f);
    pool.parallel_for(nt, 1, [&](int64_t tb, int64_t te, int) {
      for (int64_t tt = tb; tt < te; ++tt) {
        const int64_t t = t0 + tt;
        for (int64_t f = 0; f < F2; ++f) {
          float* row = cols.data() + (tt * F2 + f) * K;
          for (int kt = 0; kt < 3; ++kt) {
            const int64_t ti = 2 * t - 1 + kt;
            if (ti < 0 || ti >= T1) continue;
            for (int kf = 0; kf < 3; ++kf) {
              const int64_t fi = 2 * f - 1 + kf;
              if (fi < 0 || fi >= F1) continue;
              const float* src = h1.data() + (ti * F1 + fi) * c0;
              for (int64_t ci = 0; ci < c0; ++ci) row[(ci * 3 + kt) * 3 + kf] = src[ci];
            }
          }
        }
      }
    });
    matmul(conv1, cols.data(), nt * F2, h2.data() + t0 * F2 * c1, c1, pool, s.mm);
  }
  norm_relu(h2.data(), T2 * F2, c1, w.conv1_norm, cfg.eps, pool);

  std::vector<float> out(static_cast<size_t>(T2 * cfg.n_embd));
  clipped_linear(w.input_proj, h2.data(), T2, out.data(), pool, s);
  return out;
}

}  // namespace pocket::audio_internal
