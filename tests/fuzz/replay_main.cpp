// Replays fuzz inputs without libFuzzer, so the main build (g++, ASan/UBSan) runs the seed
// corpus and the saved crash inputs as ordinary ctest tests (label `fuzz`).
//
//   fuzz_replay_<target> PATH...
//
// Each PATH is a file or a directory (read recursively); every regular file is passed once
// to LLVMFuzzerTestOneInput, in sorted order. A target signals a bug by aborting (see
// fuzz_util.hpp), which fails the test. Exits 2 on an unreadable path and 1 when no input was
// found at all, so that a misplaced corpus cannot pass silently.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

// Collects the regular files of `path` (itself, or recursively below it) into `out`;
// false when the path does not exist or cannot be listed.
bool collect(const fs::path& path, std::vector<fs::path>& out) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    out.push_back(path);
    return true;
  }
  if (!fs::is_directory(path, ec)) return false;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) out.push_back(it->path());
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (!collect(argv[i], files)) {
      std::fprintf(stderr, "replay: cannot read %s\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files given\n");
    return 1;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 2;
    }
    // Named before running, so that the log of a crash tells which input it was.
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), bytes.size());
    // string::data() is never null, also for an empty file (libFuzzer passes non-null too).
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::fprintf(stderr, "replay: %zu inputs ran without a failed invariant\n", files.size());
  return 0;
}
