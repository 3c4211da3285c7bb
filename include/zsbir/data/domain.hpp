// The two image domains of sketch-based retrieval. Its own header so that the dataset reader and the
// loaders need not pull in the synthetic generator, which also names images by domain.
#pragma once

namespace zsbir::data {

/// Which encoder an image feeds: photos (the gallery) or sketches (the queries).
enum class Domain { photo, sketch };

}  // namespace zsbir::data
