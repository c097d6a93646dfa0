#include "traces/zstd_stream.hpp"

#include <zstd.h>
#include <zstd_errors.h>

#include <memory>
#include <utility>
#include <vector>

#include "traces/input_error.hpp"

namespace rmpsim::trace {
namespace {

// 2^27 = 128 MiB: ZSTD_WINDOWLOG_LIMIT_DEFAULT, what `zstd -d` accepts
// without --long and what every level up to 19 produces.
constexpr int kMaxWindowLog = 27;

class ZstdSource final : public ByteSource {
 public:
  ZstdSource(std::unique_ptr<ByteSource> inner, std::string name)
      : m_inner(std::move(inner)),
        m_name(std::move(name)),
        m_ctx(ZSTD_createDCtx()),
        m_in(ZSTD_DStreamInSize()) {
    if (!m_ctx) throw std::bad_alloc();
    // The decoder's memory is bounded by the window it accepts: zstd's own
    // default limit, set here so that it is ours and named in the error.
    ZSTD_DCtx_setParameter(m_ctx, ZSTD_d_windowLogMax, kMaxWindowLog);
  }
  ~ZstdSource() override { ZSTD_freeDCtx(m_ctx); }

  std::size_t read(char* buf, std::size_t n) override {
    for (;;) {
      if (m_input.pos == m_input.size && !m_eof) {
        m_input.size = m_inner->read(m_in.data(), m_in.size());
        m_input.pos = 0;
        m_input.src = m_in.data();
        m_eof = m_input.size == 0;
      }
      // Input used up between two frames: a clean end. (Calling the decoder
      // here would ask for the next frame's header.)
      if (m_eof && m_input.pos == m_input.size && !m_in_frame) return 0;
      ZSTD_outBuffer out{buf, n, 0};
      std::size_t ret = ZSTD_decompressStream(m_ctx, &out, &m_input);
      if (ZSTD_isError(ret) &&
          ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge)
        throw InputError(m_name, 0,
                         "the zstd frame needs a window larger than rmpsim's limit of " +
                             std::to_string((1u << kMaxWindowLog) >> 20) +
                             " MiB: it was compressed with `zstd --long=N` (N > " +
                             std::to_string(kMaxWindowLog) +
                             ") or `--ultra`; recompress it without them (zstd -d -c --long=31 "
                             "FILE | zstd -o NEW) or decompress it");
      if (ZSTD_isError(ret))
        throw InputError(m_name, 0,
                         std::string("corrupt zstd stream (") + ZSTD_getErrorName(ret) + ")");
      // 0 means a frame just ended and everything is flushed; a new frame
      // may follow (concatenated .zst files are valid).
      m_in_frame = ret != 0;
      if (out.pos > 0) return out.pos;
      if (m_eof && m_input.pos == m_input.size) {
        if (m_in_frame)
          throw InputError(m_name, 0, "truncated zstd stream (expected more compressed data)");
        return 0;
      }
    }
  }
  std::uint64_t bytes_read() const override { return m_inner->bytes_read(); }
  std::uint64_t bytes_total() const override { return m_inner->bytes_total(); }

 private:
  std::unique_ptr<ByteSource> m_inner;
  std::string m_name;
  ZSTD_DCtx* m_ctx;
  std::vector<char> m_in;
  ZSTD_inBuffer m_input{nullptr, 0, 0};
  bool m_eof = false;
  // An empty input is not a zstd stream either: start out expecting a frame.
  bool m_in_frame = true;
};

class ZstdSink final : public ByteSink {
 public:
  ZstdSink(std::unique_ptr<ByteSink> inner, std::string name, int level)
      : m_inner(std::move(inner)),
        m_name(std::move(name)),
        m_ctx(ZSTD_createCCtx()),
        m_out(ZSTD_CStreamOutSize()) {
    if (!m_ctx) throw std::bad_alloc();
    check(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_compressionLevel, level));
    check(ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_checksumFlag, 1));
  }
  ~ZstdSink() override { ZSTD_freeCCtx(m_ctx); }

  void write(const char* data, std::size_t n) override {
    ZSTD_inBuffer in{data, n, 0};
    while (in.pos < in.size) pump(in, ZSTD_e_continue);
  }

  void finish() override {
    if (m_done) return;
    ZSTD_inBuffer in{nullptr, 0, 0};
    while (pump(in, ZSTD_e_end) != 0) {
    }
    m_inner->finish();
    m_done = true;
  }

 private:
  std::size_t pump(ZSTD_inBuffer& in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer out{m_out.data(), m_out.size(), 0};
    std::size_t left = check(ZSTD_compressStream2(m_ctx, &out, &in, mode));
    if (out.pos) m_inner->write(m_out.data(), out.pos);
    return left;
  }
  std::size_t check(std::size_t ret) {
    if (ZSTD_isError(ret))
      throw InputError(m_name, 0,
                       std::string("zstd compression failed: ") + ZSTD_getErrorName(ret));
    return ret;
  }
  std::unique_ptr<ByteSink> m_inner;
  std::string m_name;
  ZSTD_CCtx* m_ctx;
  std::vector<char> m_out;
  bool m_done = false;
};

}  // namespace

bool has_zstd_magic(std::string_view b) {
  return b.size() >= 4 && static_cast<unsigned char>(b[0]) == 0x28 &&
         static_cast<unsigned char>(b[1]) == 0xB5 && static_cast<unsigned char>(b[2]) == 0x2F &&
         static_cast<unsigned char>(b[3]) == 0xFD;
}

std::unique_ptr<ByteSource> zstd_source(std::unique_ptr<ByteSource> inner,
                                        const std::string& name) {
  return std::make_unique<ZstdSource>(std::move(inner), name);
}

std::unique_ptr<ByteSink> zstd_sink(std::unique_ptr<ByteSink> inner, const std::string& name,
                                    int level) {
  return std::make_unique<ZstdSink>(std::move(inner), name, level);
}

}  // namespace rmpsim::trace
