#include "traces/xz_gzip_stream.hpp"

#include <lzma.h>
#include <zlib.h>

#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "traces/input_error.hpp"

namespace rmpsim::trace {
namespace {

constexpr std::size_t kInBytes = 64 * 1024;

// What both decoders share: the inner source, its name and one input block.
class InputBlock {
 protected:
  InputBlock(std::unique_ptr<ByteSource> inner, std::string name)
      : m_inner(std::move(inner)), m_name(std::move(name)), m_in(kInBytes) {}
  // Refills the block once it is used up; false at the end of the input.
  bool refill(const std::uint8_t*& next_in, std::size_t& avail_in) {
    if (avail_in == 0 && !m_eof) {
      avail_in = m_inner->read(reinterpret_cast<char*>(m_in.data()), m_in.size());
      next_in = m_in.data();
      m_eof = avail_in == 0;
    }
    return avail_in != 0;
  }
  [[noreturn]] void fail(const std::string& what) const { throw InputError(m_name, 0, what); }

  std::unique_ptr<ByteSource> m_inner;
  std::string m_name;
  std::vector<std::uint8_t> m_in;
  bool m_eof = false;
};

class XzSource final : public ByteSource, InputBlock {
 public:
  XzSource(std::unique_ptr<ByteSource> inner, std::string name)
      : InputBlock(std::move(inner), std::move(name)) {
    // No memory limit beyond liblzma's own: xz -9 needs 65 MiB to decode,
    // and the dictionary size is bounded by the format (1.5 GiB).
    // LZMA_CONCATENATED: several streams back to back are one input, as
    // with xz -d.
    if (lzma_stream_decoder(&m_strm, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
      throw std::bad_alloc();
  }
  ~XzSource() override { lzma_end(&m_strm); }

  std::size_t read(char* buf, std::size_t n) override {
    if (m_done) return 0;
    m_strm.next_out = reinterpret_cast<std::uint8_t*>(buf);
    m_strm.avail_out = n;
    for (;;) {
      const bool more = refill(m_strm.next_in, m_strm.avail_in);
      const lzma_ret ret = lzma_code(&m_strm, more ? LZMA_RUN : LZMA_FINISH);
      const std::size_t got = n - m_strm.avail_out;
      if (ret == LZMA_STREAM_END) {
        m_done = true;
        return got;
      }
      if (ret != LZMA_OK) {
        if (ret == LZMA_BUF_ERROR && !more)
          fail("truncated xz stream (expected more compressed data)");
        fail("corrupt xz stream (" + describe(ret) + ")");
      }
      if (got > 0) return got;
    }
  }
  std::uint64_t bytes_read() const override { return m_inner->bytes_read(); }
  std::uint64_t bytes_total() const override { return m_inner->bytes_total(); }

 private:
  static std::string describe(lzma_ret ret) {
    switch (ret) {
      case LZMA_FORMAT_ERROR:
        return "not in the xz format";
      case LZMA_OPTIONS_ERROR:
        return "unsupported options";
      case LZMA_DATA_ERROR:
        return "data is corrupt";
      case LZMA_MEM_ERROR:
        return "out of memory";
      case LZMA_BUF_ERROR:
        return "no progress";
      default:
        return "liblzma error " + std::to_string(int(ret));
    }
  }
  lzma_stream m_strm = LZMA_STREAM_INIT;
  bool m_done = false;
};

class GzipSource final : public ByteSource, InputBlock {
 public:
  GzipSource(std::unique_ptr<ByteSource> inner, std::string name)
      : InputBlock(std::move(inner), std::move(name)) {
    // 16 + MAX_WBITS: a gzip wrapper (not zlib's, not raw deflate).
    if (inflateInit2(&m_strm, 16 + MAX_WBITS) != Z_OK) throw std::bad_alloc();
  }
  ~GzipSource() override { inflateEnd(&m_strm); }

  std::size_t read(char* buf, std::size_t n) override {
    // zlib counts in uInt: never ask for more than it can say.
    if (n > (1u << 30)) n = 1u << 30;
    m_strm.next_out = reinterpret_cast<Bytef*>(buf);
    m_strm.avail_out = uInt(n);
    for (;;) {
      const std::uint8_t* next = m_strm.next_in;
      std::size_t avail = m_strm.avail_in;
      const bool more = refill(next, avail);
      m_strm.next_in = const_cast<Bytef*>(next);
      m_strm.avail_in = uInt(avail);
      // Between members: the input may end here (a clean end).
      if (!more && !m_in_member) return n - m_strm.avail_out;
      if (!more) fail("truncated gzip stream (expected more compressed data)");
      const int ret = inflate(&m_strm, Z_NO_FLUSH);
      if (ret == Z_STREAM_END) {
        // Another member may follow (concatenated .gz files are valid).
        if (inflateReset(&m_strm) != Z_OK) fail("corrupt gzip stream (reset failed)");
        m_in_member = false;
      } else if (ret == Z_OK) {
        m_in_member = true;
      } else if (ret != Z_BUF_ERROR) {
        fail(std::string("corrupt gzip stream (") + (m_strm.msg ? m_strm.msg : "zlib error") + ")");
      }
      const std::size_t got = n - m_strm.avail_out;
      if (got > 0) return got;
    }
  }
  std::uint64_t bytes_read() const override { return m_inner->bytes_read(); }
  std::uint64_t bytes_total() const override { return m_inner->bytes_total(); }

 private:
  z_stream m_strm{};
  // An empty input is not a gzip stream either: start out expecting a member.
  bool m_in_member = true;
};

}  // namespace

bool has_xz_magic(std::string_view b) {
  return b.size() >= 6 && b.substr(0, 6) == std::string_view(
                                                "\xFD"
                                                "7zXZ\0",
                                                6);
}

bool has_gzip_magic(std::string_view b) {
  return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1F &&
         static_cast<unsigned char>(b[1]) == 0x8B;
}

std::unique_ptr<ByteSource> xz_source(std::unique_ptr<ByteSource> inner, const std::string& name) {
  return std::make_unique<XzSource>(std::move(inner), name);
}

std::unique_ptr<ByteSource> gzip_source(std::unique_ptr<ByteSource> inner,
                                        const std::string& name) {
  return std::make_unique<GzipSource>(std::move(inner), name);
}

}  // namespace rmpsim::trace
