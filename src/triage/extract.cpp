// Dispatch by content: libmagic names the type from the bytes; the file name only refines formats the
// bytes cannot tell apart (Markdown vs plain text) and is reported when it disagrees with the content.
#include "triage/extract.h"

#include <fcntl.h>
#include <magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "media/image_decode.h"
#include "triage/extract_formats.h"
#include "triage/text_decode.h"

namespace pocket::triage {
namespace {

// libmagic looks at no more than this much of a file (its own default limit is 1 MiB too).
constexpr size_t kSniffBytes = size_t{1} << 20;

struct MagicCloser {
  void operator()(magic_t m) const { magic_close(m); }
};

// The MIME type of the bytes, e.g. "application/pdf"; "application/octet-stream" when libmagic is
// unavailable. A cookie per call: libmagic handles are not thread-safe, and loading the compiled
// database is an mmap (well under a millisecond).
std::string sniff_mime(std::span<const uint8_t> bytes) {
  std::unique_ptr<std::remove_pointer_t<magic_t>, MagicCloser> cookie(
      magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS));
  if (!cookie || magic_load(cookie.get(), nullptr) != 0) return "application/octet-stream";
  const char* type = magic_buffer(cookie.get(), bytes.data(), std::min(bytes.size(), kSniffBytes));
  return type != nullptr ? std::string(type) : std::string("application/octet-stream");
}

std::string lower_extension(std::string_view name) {
  const size_t slash = name.find_last_of('/');
  const std::string_view base = slash == std::string_view::npos ? name : name.substr(slash + 1);
  const size_t dot = base.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  std::string ext(base.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool is_audio_mime(std::string_view mime) {
  return starts_with(mime, "audio/") || mime == "application/ogg" || mime == "video/ogg" || mime == "application/x-ogg";
}

// Text-like types libmagic reports outside text/*.
bool is_text_mime(std::string_view mime) {
  return starts_with(mime, "text/") || mime == "application/json" || mime == "application/xml" ||
         mime == "application/csv" || mime == "application/x-ndjson" || mime == "message/news";
}

bool is_docx_mime(std::string_view mime) {
  return mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document" ||
         mime == "application/zip" || mime == "application/x-zip-compressed";
}

// Extensions that promise a particular non-text type, to say so when the content disagrees.
bool extension_promises_binary(const std::string& ext) {
  static constexpr std::array<std::string_view, 16> kBinary = {"pdf",  "docx", "jpg", "jpeg", "png",  "webp",
                                                               "gif",  "bmp",  "wav", "mp3",  "flac", "ogg",
                                                               "opus", "m4a",  "zip", "xlsx"};
  return std::find(kBinary.begin(), kBinary.end(), ext) != kBinary.end();
}

void read_as_text(std::span<const uint8_t> bytes, const std::string& mime, const std::string& ext,
                  ExtractedInput& out) {
  DecodedText decoded = decode_text_bytes(bytes);
  out.source_encoding = decoded.encoding;
  out.text = std::move(decoded.text);
  if (mime == "application/json" || ext == "json") {
    out.format = "json";
  } else if (mime == "text/csv" || ext == "csv" || ext == "tsv") {
    out.format = "csv";
  } else if (mime == "text/markdown" || ext == "md" || ext == "markdown") {
    out.format = "markdown";
  } else {
    out.format = "text";
  }
  out.kind = InputKind::kText;
}

// Classifies and extracts once the MIME type is known (`bytes` is the whole file for documents; for
// images and audio only the head is needed).
void classify_and_extract(std::span<const uint8_t> bytes, std::string_view name, const ExtractOptions& options,
                          ExtractedInput& out) {
  const std::string& mime = out.mime;
  const std::string ext = lower_extension(name);
  const std::string_view chars(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (starts_with(mime, "image/")) {
    const media::ImageFormat format = media::detect_image_format(bytes);
    if (format == media::ImageFormat::kUnknown) {
      out.reason = "image type " + mime + " is not supported (PNG, JPEG, WebP, BMP and GIF are)";
      return;
    }
    out.kind = InputKind::kImage;
    out.format = "image";
    return;
  }
  if (is_audio_mime(mime)) {
    out.kind = InputKind::kAudio;
    out.format = "audio";
    return;
  }
  if (mime == "application/pdf") {
    extract_pdf(bytes, options, out);
  } else if (is_docx_mime(mime)) {
    extract_docx(bytes, options, out);
  } else if (mime == "message/rfc822" || (is_text_mime(mime) && looks_like_email(chars))) {
    // Before HTML: libmagic calls a mail with an HTML body text/html.
    extract_email(chars, out);
  } else if (mime == "text/html" || mime == "application/xhtml+xml") {
    extract_html(chars, out);
  } else if (is_text_mime(mime)) {
    read_as_text(bytes, mime, ext, out);
  } else if (mime == "application/encrypted" || starts_with(mime, "application/CDFV2") ||
             mime == "application/msword" || mime == "application/vnd.ms-office") {
    out.reason = "encrypted or legacy (OLE) Office document (" + mime + "): not readable without Office";
    return;
  } else if (mime == "inode/x-empty") {
    out.reason = "empty file";
    return;
  } else {
    out.reason = "not a supported document, image or audio file (content is " + mime + ")";
    if (!ext.empty()) out.reason += "; the name says ." + ext;
    return;
  }
  if (out.kind != InputKind::kText) {
    if (!ext.empty() && ext != out.format) out.reason += " (the name says ." + ext + ")";
    return;
  }
  out.text = clean_text(out.text);
  if (out.text.find_first_not_of(" \t\n") == std::string::npos) {
    out.kind = InputKind::kUnsupported;
    out.reason =
        out.format == "pdf" ? "PDF has no text layer (scanned pages?)" : "no text in the " + out.format + " file";
    out.text.clear();
    return;
  }
  if (truncate_utf8(out.text, options.max_text_bytes)) out.truncated = true;
  if (out.source_encoding == "windows-1252") out.reason = "not valid UTF-8; read as Windows-1252";
  if (extension_promises_binary(ext) && ext != out.format) {
    if (!out.reason.empty()) out.reason += "; ";
    out.reason += "named ." + ext + " but the content is " + mime;
  }
}

// Every string of the result goes into JSON and HTML, so each must be valid UTF-8 — file names (in
// reasons) and declared MIME types of attachments need not be.
void extract_known(std::span<const uint8_t> bytes, std::string_view name, const ExtractOptions& options,
                   ExtractedInput& out) {
  classify_and_extract(bytes, name, options, out);
  out.reason = to_valid_utf8(out.reason);
  out.mime = to_valid_utf8(out.mime);
  for (Attachment& a : out.attachments) {
    a.name = to_valid_utf8(a.name);
    a.mime = to_valid_utf8(a.mime);
  }
}

}  // namespace

const char* input_kind_name(InputKind kind) {
  switch (kind) {
    case InputKind::kText:
      return "text";
    case InputKind::kImage:
      return "image";
    case InputKind::kAudio:
      return "audio";
    case InputKind::kUnsupported:
      return "unsupported";
  }
  return "unsupported";
}

ExtractedInput extract_input_memory(std::span<const uint8_t> bytes, std::string_view name,
                                    const ExtractOptions& options) {
  ExtractedInput out;
  if (bytes.empty()) {
    out.mime = "inode/x-empty";
    out.reason = "empty file";
    return out;
  }
  out.mime = sniff_mime(bytes);
  if (bytes.size() > options.max_document_bytes && !starts_with(out.mime, "image/") && !is_audio_mime(out.mime)) {
    out.reason = "document of " + std::to_string(bytes.size()) + " bytes is over the " +
                 std::to_string(options.max_document_bytes) + "-byte limit";
    return out;
  }
  extract_known(bytes, name, options, out);
  return out;
}

Result<ExtractedInput> extract_input(const std::filesystem::path& path, const ExtractOptions& options) {
  const std::string shown = path.string();
  // O_NONBLOCK: opening a FIFO must not hang (it is then refused as not a regular file).
  const int fd = ::open(shown.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Error{shown + ": cannot open: " + std::strerror(errno)};
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error{shown + ": cannot stat: " + std::strerror(errno)};
  if (S_ISDIR(st.st_mode)) return Error{shown + ": is a directory"};
  if (!S_ISREG(st.st_mode)) {
    ExtractedInput out;
    out.mime = "inode/special";
    out.reason = "not a regular file (device, pipe or socket)";
    return out;
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  // Read the head first: images and audio are recognised from it and never read whole here.
  auto read_up_to = [&](std::vector<uint8_t>& buf, size_t want) -> Status {
    if (buf.size() >= want) {
      buf.resize(want);
      return Status::Ok();
    }
    size_t have = buf.size();
    buf.resize(want);
    while (have < want) {
      const ssize_t n = ::pread(fd, buf.data() + have, want - have, static_cast<off_t>(have));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error{shown + ": read failed: " + std::strerror(errno)};
      }
      if (n == 0) break;
      have += static_cast<size_t>(n);
    }
    buf.resize(have);
    return Status::Ok();
  };
  std::vector<uint8_t> bytes;
  if (Status s = read_up_to(bytes, static_cast<size_t>(std::min<uint64_t>(size, kSniffBytes))); !s) return s.error();
  ExtractedInput out;
  if (bytes.empty()) {
    out.mime = "inode/x-empty";
    out.reason = "empty file";
    return out;
  }
  out.mime = sniff_mime(bytes);
  bool cut = false;
  if (!starts_with(out.mime, "image/") && !is_audio_mime(out.mime)) {
    if (size > options.max_document_bytes) {
      // Plain text (logs, exports) is read from its start, as far as the limit; formats that need
      // the whole file (PDF, .docx, mail with attachments at the end) are refused.
      if (!is_text_mime(out.mime) || out.mime == "message/rfc822") {
        out.reason = "document of " + std::to_string(size) + " bytes is over the " +
                     std::to_string(options.max_document_bytes) + "-byte limit";
        return out;
      }
      cut = true;
    }
    const auto want = static_cast<size_t>(std::min<uint64_t>(size, options.max_document_bytes));
    if (Status s = read_up_to(bytes, want); !s) return s.error();
    if (cut) {  // do not leave half a UTF-8 character at the cut (it would fail the UTF-8 check)
      size_t back = 0;
      while (back < 3 && back < bytes.size() && (bytes[bytes.size() - 1 - back] & 0xC0) == 0x80) ++back;
      if (back < bytes.size() && bytes[bytes.size() - 1 - back] >= 0xC0) bytes.resize(bytes.size() - 1 - back);
    }
  }
  extract_known(bytes, shown, options, out);
  if (cut && out.kind == InputKind::kText) {
    out.truncated = true;
    if (!out.reason.empty()) out.reason += "; ";
    out.reason += "only the first " + std::to_string(bytes.size()) + " of " + std::to_string(size) + " bytes read";
  }
  return out;
}

}  // namespace pocket::triage
