#ifndef MLP_IMAGE_H
#define MLP_IMAGE_H

#include <stddef.h>
#include <stdint.h>

// Image decoding as TensorFlow's `tf.io.decode_image` decodes, through the libraries made for
// each format: PNG through libpng with TensorFlow's transforms (alpha stripped, 16 bits cut to
// 8, grey from colour with ITU-R 601 weights), JPEG through libjpeg-turbo with TensorFlow's
// settings (fast integer IDCT, fancy upsampling), BMP and GIF (its first frame) through
// stb_image. The format is told by the first bytes, as TensorFlow tells it.

// The largest image decoded, in pixels: a header claiming more is refused before anything in
// proportion to it is allocated.
#define MLP_IMAGE_MAX_PIXELS ((int64_t)1 << 26)

typedef struct {
    int width, height;
    // "png", "jpeg", "bmp" or "gif".
    const char *format;
} mlp_image_info;

// Reads the header of the image in `data` (`size` bytes): its format and size. Returns 0, or -1
// with the reason in `error` (a format it does not take, a damaged header, a size beyond
// MLP_IMAGE_MAX_PIXELS).
int mlp_image_probe(const uint8_t *data, size_t size, mlp_image_info *info, char *error, size_t error_size);

// Decodes the image into `pixels`, (height, width, channels) bytes, channels 1 (grey) or 3
// (RGB); `capacity` is the bytes `pixels` holds, at least height * width * channels from
// `mlp_image_probe`. Returns 0, or -1 with the reason in `error` (truncated or corrupt data).
int mlp_image_decode(const uint8_t *data, size_t size, int channels, uint8_t *pixels, size_t capacity, char *error,
                     size_t error_size);

#endif
