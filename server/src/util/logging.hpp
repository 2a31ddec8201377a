// Logging of the server binaries: one line per event to stderr (journald) or a rotating file.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <cstddef>
#include <string>

namespace chat::util {

/// Where and how much a daemon logs (--log-* flags, [log] table of the config file).
struct LogOptions {
  std::string level = "info";    // trace|debug|info|warn|error
  std::string file;              // empty: stderr (journald adds its own time and unit)
  std::size_t max_size_mb = 64;  // rotate the file at this size (MiB)
  std::size_t max_files = 5;     // rotated files kept besides the current one
};

/// Adds --log-level, --log-file, --log-max-size-mb and --log-max-files.
void add_log_options(boost::program_options::options_description& options, LogOptions& log);

/// Makes the default spdlog logger write lines "TIME LEVEL [tag] message" (tag: the node id
/// or dumper name, so lines of several nodes can be merged) to stderr or, with a file, to a
/// rotating file sink (opened now; an unwritable path throws spdlog::spdlog_ex naming it).
/// Throws std::invalid_argument for an unknown level.
void setup_logging(const LogOptions& log, const std::string& tag);

}  // namespace chat::util
