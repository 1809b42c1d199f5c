#include "mlp_image.h"

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>
#include <stb/stb_image.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void say(char *error, size_t error_size, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, error_size, format, arguments);
    va_end(arguments);
}

static const char *format_of(const uint8_t *data, size_t size) {
    if (size >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) return "png";
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return "jpeg";
    if (size >= 6 && (memcmp(data, "GIF87a", 6) == 0 || memcmp(data, "GIF89a", 6) == 0)) return "gif";
    if (size >= 2 && data[0] == 'B' && data[1] == 'M') return "bmp";
    return NULL;
}

static int check_size(int width, int height, char *error, size_t error_size) {
    if (width <= 0 || height <= 0) {
        say(error, error_size, "an image of %d×%d pixels", width, height);
        return -1;
    }
    if ((int64_t)width * height > MLP_IMAGE_MAX_PIXELS) {
        say(error, error_size, "its header claims %d×%d pixels, more than the %lld this toolchain decodes", width, height,
            (long long)MLP_IMAGE_MAX_PIXELS);
        return -1;
    }
    return 0;
}

// MARK: PNG

// Kept in memory through `setjmp`: the pointers libpng's error jump must still see.
typedef struct {
    const uint8_t *data;
    size_t left;
    png_structp png;
    png_infop info;
    jmp_buf jump;
    char message[200];
} png_source;

static void png_read_bytes(png_structp png, png_bytep out, png_size_t count) {
    png_source *source = png_get_io_ptr(png);
    if (count > source->left) png_error(png, "the data ends early (truncated)");
    memcpy(out, source->data, count);
    source->data += count;
    source->left -= count;
}

static void png_failed(png_structp png, png_const_charp message) {
    png_source *source = png_get_error_ptr(png);
    snprintf(source->message, sizeof source->message, "%s", message);
    longjmp(source->jump, 1);
}

static void png_warned(png_structp png, png_const_charp message) { (void)png, (void)message; }

// Opens the PNG and reads its header; with `channels` > 0, also sets TensorFlow's transforms
// for that many output channels.
static int png_open(png_source *source, int channels, png_uint_32 *width, png_uint_32 *height) {
    source->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, source, png_failed, png_warned);
    if (!source->png) return -1;
    png_structp png = source->png;
    source->info = png_create_info_struct(png);
    if (!source->info) return -1;
    png_set_read_fn(png, source, png_read_bytes);
    png_read_info(png, source->info);
    int depth, color;
    png_get_IHDR(png, source->info, width, height, &depth, &color, NULL, NULL, NULL);
    if (channels == 0) return 0;
    if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, source->info, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    if (depth > 8) png_set_strip_16(png);
    png_set_packing(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    int gray = !(color & PNG_COLOR_MASK_COLOR);
    if (gray && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (channels == 1 && !gray) png_set_rgb_to_gray(png, 1, 0.299, 0.587);
    if (channels == 3 && gray) png_set_gray_to_rgb(png);
    return 0;
}

static int png_probe(const uint8_t *data, size_t size, mlp_image_info *info, char *error, size_t error_size) {
    png_source source = {data, size, NULL, NULL};
    png_uint_32 width = 0, height = 0;
    volatile int status = -1;
    if (setjmp(source.jump)) {
        say(error, error_size, "a damaged PNG header: %s", source.message);
    } else if (png_open(&source, 0, &width, &height) != 0) {
        say(error, error_size, "libpng could not start");
    } else if (width > INT32_MAX || height > INT32_MAX) {
        say(error, error_size, "its header claims %u×%u pixels", width, height);
    } else {
        info->width = (int)width;
        info->height = (int)height;
        status = check_size(info->width, info->height, error, error_size);
    }
    png_destroy_read_struct(&source.png, &source.info, NULL);
    return status;
}

static int png_decode(const uint8_t *data, size_t size, int channels, uint8_t *pixels, size_t capacity, char *error,
                      size_t error_size) {
    png_source source = {data, size, NULL, NULL};
    png_uint_32 width = 0, height = 0;
    volatile int status = -1;
    if (setjmp(source.jump)) {
        say(error, error_size, "a corrupt PNG: %s", source.message);
    } else if (png_open(&source, channels, &width, &height) != 0) {
        say(error, error_size, "libpng could not start");
    } else if (check_size((int)width, (int)height, error, error_size) == 0) {
        png_structp png = source.png;
        int passes = png_set_interlace_handling(png);
        png_read_update_info(png, source.info);
        size_t row = (size_t)width * channels;
        if (png_get_rowbytes(png, source.info) != row || row * height > capacity) {
            say(error, error_size, "a PNG whose rows are not %d channels of 8 bits", channels);
        } else {
            for (int pass = 0; pass < passes; pass++)
                for (png_uint_32 y = 0; y < height; y++) png_read_row(png, pixels + y * row, NULL);
            png_read_end(png, NULL);
            status = 0;
        }
    }
    png_destroy_read_struct(&source.png, &source.info, NULL);
    return status;
}

// MARK: JPEG

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
} jpeg_failure;

static void jpeg_failed(j_common_ptr jpeg) {
    jpeg_failure *failure = (jpeg_failure *)jpeg->err;
    longjmp(failure->jump, 1);
}

// Warnings are ignored, as TensorFlow ignores them, except the data ending early: a truncated
// file is refused rather than padded with grey.
static void jpeg_noted(j_common_ptr jpeg, int level) {
    if (level < 0 && jpeg->err->msg_code == JWRN_JPEG_EOF) jpeg_failed(jpeg);
}

static int jpeg_run(const uint8_t *data, size_t size, int channels, uint8_t *pixels, size_t capacity,
                    mlp_image_info *info, char *error, size_t error_size) {
    struct jpeg_decompress_struct jpeg;
    jpeg_failure failure;
    jpeg.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_failed;
    failure.manager.emit_message = jpeg_noted;
    volatile int status = -1;
    if (setjmp(failure.jump)) {
        char message[JMSG_LENGTH_MAX];
        failure.manager.format_message((j_common_ptr)&jpeg, message);
        say(error, error_size, "a corrupt JPEG: %s", message);
        jpeg_destroy_decompress(&jpeg);
        return -1;
    }
    jpeg_create_decompress(&jpeg);
    jpeg_mem_src(&jpeg, data, (unsigned long)size);
    jpeg_read_header(&jpeg, TRUE);
    if (check_size((int)jpeg.image_width, (int)jpeg.image_height, error, error_size) != 0) {
        jpeg_destroy_decompress(&jpeg);
        return -1;
    }
    if (info) {
        info->width = (int)jpeg.image_width;
        info->height = (int)jpeg.image_height;
        jpeg_destroy_decompress(&jpeg);
        return 0;
    }
    if (jpeg.jpeg_color_space == JCS_CMYK || jpeg.jpeg_color_space == JCS_YCCK) {
        say(error, error_size, "a CMYK JPEG, which this toolchain does not decode");
        jpeg_destroy_decompress(&jpeg);
        return -1;
    }
    jpeg.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg.dct_method = JDCT_IFAST;
    jpeg.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&jpeg);
    size_t row = (size_t)jpeg.output_width * channels;
    if (jpeg.output_components != channels || row * jpeg.output_height > capacity) {
        say(error, error_size, "a JPEG that does not decode to %d channels", channels);
    } else {
        while (jpeg.output_scanline < jpeg.output_height) {
            JSAMPROW line = pixels + (size_t)jpeg.output_scanline * row;
            if (jpeg_read_scanlines(&jpeg, &line, 1) != 1) break;
        }
        if (jpeg.output_scanline == jpeg.output_height) {
            jpeg_finish_decompress(&jpeg);
            status = 0;
        } else {
            say(error, error_size, "a truncated JPEG");
        }
    }
    jpeg_destroy_decompress(&jpeg);
    return status;
}

// MARK: BMP and GIF

static int stb_probe(const uint8_t *data, size_t size, mlp_image_info *info, char *error, size_t error_size) {
    int width, height, components;
    if (size > INT32_MAX || !stbi_info_from_memory(data, (int)size, &width, &height, &components)) {
        say(error, error_size, "a damaged %s header: %s", info->format, stbi_failure_reason());
        return -1;
    }
    info->width = width;
    info->height = height;
    return check_size(width, height, error, error_size);
}

static int stb_decode(const uint8_t *data, size_t size, int channels, uint8_t *pixels, size_t capacity,
                      const char *format, char *error, size_t error_size) {
    int width, height, components;
    uint8_t *image = stbi_load_from_memory(data, (int)size, &width, &height, &components, channels);
    if (!image) {
        say(error, error_size, "a corrupt %s: %s", format, stbi_failure_reason());
        return -1;
    }
    size_t count = (size_t)width * height * channels;
    int status = 0;
    if (count > capacity) {
        say(error, error_size, "a %s larger than its header says", format);
        status = -1;
    } else {
        memcpy(pixels, image, count);
    }
    stbi_image_free(image);
    return status;
}

// MARK: Entry points

int mlp_image_probe(const uint8_t *data, size_t size, mlp_image_info *info, char *error, size_t error_size) {
    info->format = format_of(data, size);
    if (size == 0) {
        say(error, error_size, "an empty file");
        return -1;
    }
    if (!info->format) {
        say(error, error_size, "not a PNG, JPEG, GIF or BMP image");
        return -1;
    }
    if (strcmp(info->format, "png") == 0) return png_probe(data, size, info, error, error_size);
    if (strcmp(info->format, "jpeg") == 0) return jpeg_run(data, size, 0, NULL, 0, info, error, error_size);
    return stb_probe(data, size, info, error, error_size);
}

int mlp_image_decode(const uint8_t *data, size_t size, int channels, uint8_t *pixels, size_t capacity, char *error,
                     size_t error_size) {
    const char *format = format_of(data, size);
    if (channels != 1 && channels != 3) {
        say(error, error_size, "%d channels asked for (1 or 3 are decoded)", channels);
        return -1;
    }
    if (!format) {
        say(error, error_size, "not a PNG, JPEG, GIF or BMP image");
        return -1;
    }
    if (strcmp(format, "png") == 0) return png_decode(data, size, channels, pixels, capacity, error, error_size);
    if (strcmp(format, "jpeg") == 0) return jpeg_run(data, size, channels, pixels, capacity, NULL, error, error_size);
    return stb_decode(data, size, channels, pixels, capacity, format, error, error_size);
}
