#include "util/logging.hpp"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <stdexcept>

namespace chat::util {

namespace po = boost::program_options;

void add_log_options(po::options_description& options, LogOptions& log) {
  // clang-format off
  options.add_options()
    ("log-level", po::value(&log.level)->default_value(log.level), "trace|debug|info|warn|error")
    ("log-file", po::value(&log.file), "log to this file, rotated by size (default: stderr, e.g. for journald)")
    ("log-max-size-mb", po::value(&log.max_size_mb)->default_value(log.max_size_mb), "rotate --log-file at this size (MiB)")
    ("log-max-files", po::value(&log.max_files)->default_value(log.max_files), "rotated log files kept");
  // clang-format on
}

void setup_logging(const LogOptions& log, const std::string& tag) {
  const auto level = spdlog::level::from_str(log.level);
  // from_str answers "off" for any word it does not know; only "off" itself means off.
  if (level == spdlog::level::off && log.level != "off")
    throw std::invalid_argument("unknown log level '" + log.level + "'");
  std::shared_ptr<spdlog::logger> logger;
  if (log.file.empty()) {
    logger = std::make_shared<spdlog::logger>(
        tag, std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  } else {
    if (log.max_size_mb == 0) throw std::invalid_argument("--log-max-size-mb must be > 0");
    logger = std::make_shared<spdlog::logger>(
        tag, std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                 log.file, log.max_size_mb * 1024 * 1024, log.max_files));
    // A crash must not take the last lines with it; warnings and worse are written at once.
    logger->flush_on(spdlog::level::warn);
  }
  logger->set_level(level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + tag + "] %v");
  spdlog::set_default_logger(std::move(logger));
  if (!log.file.empty()) spdlog::flush_every(std::chrono::seconds(1));
}

}  // namespace chat::util
