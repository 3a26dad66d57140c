// Log-mel features (HF Gemma4AudioFeatureExtractor semantics; see the header for the pipeline).
#include "media/audio_features.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>

namespace pocket::media {
namespace {

constexpr int kFrameSpan = kMelFrameLength + 1;  // 321: the reference unfolds frame_length + 1
constexpr int kPadLeft = kMelFrameLength / 2;    // 160 zeros of semicausal padding

struct FftwFree {
  void operator()(void* p) const { fftw_free(p); }
};

double hertz_to_mel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double mel_to_hertz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// numpy.linspace(start, stop, num): start + i·step, with the last point set to stop exactly.
std::vector<double> linspace(double start, double stop, int num) {
  std::vector<double> v(static_cast<size_t>(num));
  const double step = (stop - start) / (num - 1);
  for (int i = 0; i < num; ++i) v[static_cast<size_t>(i)] = start + i * step;
  v.back() = stop;
  return v;
}

// Everything that depends only on the constants: built once, read-only afterwards.
struct MelTables {
  std::vector<float> window;            // [320] periodic Hann, float32 as in the reference
  std::vector<double> filterbank;       // [257][128]
  std::vector<int> first_bin, end_bin;  // per mel filter: nonzero FFT-bin range [first, end)
  fftw_plan plan = nullptr;             // r2c, 512 points, double; executed with new-array API

  MelTables() {
    // numpy.hanning(321)[:-1]: 0.5 + 0.5·cos(π·n/320) for n = −320, −318, …, 318 — the same values
    // as 0.5 − 0.5·cos(2πi/320), written as numpy computes them.
    window.resize(kMelFrameLength);
    for (int i = 0; i < kMelFrameLength; ++i) {
      const double n = 1.0 - kFrameSpan + 2.0 * i;
      window[static_cast<size_t>(i)] =
          static_cast<float>(0.5 + 0.5 * std::cos(std::numbers::pi * n / (kFrameSpan - 1)));
    }

    // HF mel_filter_bank(257, 128, 0, 8000, 16000, norm=None, mel_scale="htk").
    const std::vector<double> mel_points = linspace(hertz_to_mel(0.0), hertz_to_mel(8000.0), kMelBins + 2);
    std::vector<double> hz(mel_points.size());
    for (size_t i = 0; i < hz.size(); ++i) hz[i] = mel_to_hertz(mel_points[i]);
    const std::vector<double> fft_freqs = linspace(0.0, 8000.0, kMelFftBins);
    filterbank.assign(static_cast<size_t>(kMelFftBins) * kMelBins, 0.0);
    first_bin.assign(kMelBins, kMelFftBins);
    end_bin.assign(kMelBins, 0);
    for (int k = 0; k < kMelFftBins; ++k) {
      for (int j = 0; j < kMelBins; ++j) {
        const auto jj = static_cast<size_t>(j);
        const double down = -(hz[jj] - fft_freqs[static_cast<size_t>(k)]) / (hz[jj + 1] - hz[jj]);
        const double up = (hz[jj + 2] - fft_freqs[static_cast<size_t>(k)]) / (hz[jj + 2] - hz[jj + 1]);
        const double w = std::max(0.0, std::min(down, up));
        filterbank[static_cast<size_t>(k) * kMelBins + jj] = w;
        if (w != 0.0) {
          first_bin[jj] = std::min(first_bin[jj], k);
          end_bin[jj] = std::max(end_bin[jj], k + 1);
        }
      }
    }

    // Planning is not thread-safe in FFTW, executing a plan on other arrays is: plan once here.
    std::unique_ptr<double, FftwFree> in(fftw_alloc_real(kMelFftLength));
    std::unique_ptr<fftw_complex, FftwFree> out(fftw_alloc_complex(kMelFftBins));
    plan = fftw_plan_dft_r2c_1d(kMelFftLength, in.get(), out.get(), FFTW_ESTIMATE);
  }
  ~MelTables() {
    if (plan) fftw_destroy_plan(plan);
  }
  MelTables(const MelTables&) = delete;
  MelTables& operator=(const MelTables&) = delete;
};

// A function-local static rather than per-call state: FFTW's planner must not run concurrently, and a
// magic static gives exactly one thread-safe initialisation.
const MelTables& mel_tables() {
  static const MelTables tables;
  return tables;
}

}  // namespace

int64_t log_mel_frame_count(int64_t n_samples) {
  const int64_t padded = n_samples + kPadLeft;
  if (padded < kFrameSpan) return 0;
  return (padded - kFrameSpan) / kMelHopLength + 1;
}

int64_t audio_soft_tokens_for_frames(int64_t n_frames) {
  if (n_frames <= 0) return 0;
  int64_t t = n_frames;
  for (int layer = 0; layer < 2; ++layer) t = (t + 2 * 1 - 3) / 2 + 1;  // kernel 3, stride 2, pad 1
  return std::min(t, kMaxAudioSoftTokens);
}

int64_t audio_soft_token_count(int64_t n_samples) {
  return audio_soft_tokens_for_frames(log_mel_frame_count(n_samples));
}

std::span<const double> mel_filterbank() { return mel_tables().filterbank; }

LogMelFeatures compute_log_mel(std::span<const float> samples_16k) {
  const MelTables& tables = mel_tables();
  LogMelFeatures out;
  out.n_frames = log_mel_frame_count(static_cast<int64_t>(samples_16k.size()));
  if (out.n_frames <= 0) {
    out.n_frames = 0;
    return out;
  }
  out.data.resize(static_cast<size_t>(out.n_frames) * kMelBins);

  std::unique_ptr<double, FftwFree> frame(fftw_alloc_real(kMelFftLength));
  std::unique_ptr<fftw_complex, FftwFree> spectrum(fftw_alloc_complex(kMelFftBins));
  double* in = frame.get();
  std::fill(in, in + kMelFftLength, 0.0);  // samples 320..511 stay zero (FFT padding)
  std::vector<double> magnitude(kMelFftBins);
  const auto n = static_cast<int64_t>(samples_16k.size());

  for (int64_t t = 0; t < out.n_frames; ++t) {
    // Frame t covers padded positions [t·160, t·160 + 320) = samples [t·160 − 160, t·160 + 160).
    const int64_t start = t * kMelHopLength - kPadLeft;
    for (int i = 0; i < kMelFrameLength; ++i) {
      const int64_t s = start + i;
      const float x = (s >= 0 && s < n) ? samples_16k[static_cast<size_t>(s)] : 0.0f;
      in[i] = static_cast<double>(x * tables.window[static_cast<size_t>(i)]);  // float32 product, as numpy
    }
    fftw_execute_dft_r2c(tables.plan, in, spectrum.get());
    for (int k = 0; k < kMelFftBins; ++k)
      magnitude[static_cast<size_t>(k)] = std::hypot(spectrum.get()[k][0], spectrum.get()[k][1]);

    float* row = out.data.data() + static_cast<size_t>(t) * kMelBins;
    for (int j = 0; j < kMelBins; ++j) {
      double mel = 0.0;
      for (int k = tables.first_bin[static_cast<size_t>(j)]; k < tables.end_bin[static_cast<size_t>(j)]; ++k) {
        mel += magnitude[static_cast<size_t>(k)] *
               tables.filterbank[static_cast<size_t>(k) * kMelBins + static_cast<size_t>(j)];
      }
      row[j] = static_cast<float>(std::log(mel + kMelFloor));
    }
  }
  return out;
}

}  // namespace pocket::media
