#include "colmap_export.h"

#include <algorithm>
#include <cmath>

namespace framesift {

void ColmapKeypoints(const FeatureData& set, double scaleX, double scaleY, float* out) {
  const int n = set.Count();
  const double mean = (scaleX + scaleY) / 2;
  for (int k = 0; k < n; ++k) {
    float* row = out + static_cast<size_t>(k) * kColmapKeypointCols;
    const double sigma = k < static_cast<int>(set.scale.size()) ? set.scale[k] / 2 * mean : 0.0;
    const double o = (k < static_cast<int>(set.angle.size()) ? set.angle[k] : 0.0) * M_PI / 180.0;
    row[0] = static_cast<float>((set.xy[2 * k] + 0.5) * scaleX);
    row[1] = static_cast<float>((set.xy[2 * k + 1] + 0.5) * scaleY);
    row[2] = static_cast<float>(sigma * std::cos(o));
    row[3] = static_cast<float>(-sigma * std::sin(o));
    row[4] = static_cast<float>(sigma * std::sin(o));
    row[5] = static_cast<float>(sigma * std::cos(o));
  }
}

void ColmapDescriptors(const FeatureData& set, uint8_t* out) {
  const int n = set.Count(), cols = set.descriptors.cols;
  for (int r = 0; r < n; ++r) {
    const uint8_t* row = set.descriptors.ptr<uint8_t>(r);
    uint8_t* dst = out + static_cast<size_t>(r) * cols;
    double norm = 0;
    // RootSIFT bytes are sqrt(v / sum) x 255: already the root, only the length differs.
    if (set.rootSift) {
      for (int c = 0; c < cols; ++c) norm += static_cast<double>(row[c]) * row[c];
      norm = std::sqrt(norm);
    } else {
      for (int c = 0; c < cols; ++c) norm += row[c];
    }
    for (int c = 0; c < cols; ++c) {
      double v = 0;
      if (norm > 0) v = set.rootSift ? row[c] / norm : std::sqrt(row[c] / norm);
      dst[c] = static_cast<uint8_t>(std::min(255.0, std::round(512.0 * v)));
    }
  }
}

}  // namespace framesift
