// Features in COLMAP's database layout (plain C++, no N-API), as COLMAP's own SIFT extraction
// writes them, so `colmap mapper` (and COLMAP's matchers) read framesift's features as theirs:
//  - keypoints: float32 rows of (x, y, a11, a12, a21, a22), the affine shape COLMAP 3.8
//    writes: scale * [cos o, -sin o; sin o, cos o]. COLMAP puts the centre of the top-left
//    pixel at (0.5, 0.5) (OpenCV at (0, 0)); scale is the Gaussian sigma of the detection
//    (OpenCV's KeyPoint::size is a diameter, twice that); o is the orientation in radians.
//    Coordinates are mapped from the feature set's image to the written image by a per-axis
//    factor: x_colmap = (x_opencv + 0.5) * scaleX.
//  - descriptors: uint8 rows of 128, L1-root normalised (RootSIFT, COLMAP's default
//    normalisation) then round(512 * v) capped at 255 (COLMAP's FeatureDescriptorsToUnsignedByte).
//    OpenCV's 8-bit SIFT is an L2-normalised vector x 512; L1-root does not depend on the
//    vector's scale, so it is taken straight from those bytes. framesift's own RootSIFT
//    (sqrt(v / sum) x 255) is L2-normalised first.
#pragma once
#include <cstdint>

#include "local_features.h"

namespace framesift {

// Writes Count() x kColmapKeypointCols floats into `out`.
constexpr int kColmapKeypointCols = 6;
void ColmapKeypoints(const FeatureData& set, double scaleX, double scaleY, float* out);

// Writes Count() x 128 bytes into `out`. SIFT sets only (the caller checks kind).
void ColmapDescriptors(const FeatureData& set, uint8_t* out);

}  // namespace framesift
