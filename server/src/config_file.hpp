// The TOML config file shared by chatd, chat-dumper and chatctl, and the command-line
// handling every one of them does the same way (--config, --help, --version).
#pragma once

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace chat::server {

/// Reads one TOML config file into options of `options`, for the binary whose own table is
/// `own_table` ("chatd", "dumper", "chatctl"). The mapping (README "Configuration"):
///   - in the shared tables [redis], [mysql], [log], [metrics] a key K is the flag
///     "<table>-K" (`[redis] port = 6380` is --redis-port 6380);
///   - in [own_table] a key K is the flag "K" (`[chatd] listen = "0.0.0.0:7000"`);
///   - other tables (other binaries') are skipped, and so are keys of a shared table when
///     this binary has no flag of that table at all (chatctl and [metrics]).
/// Strings, integers, floats and booleans are accepted; `true` sets a switch, `false` leaves
/// it unset; an array gives a repeatable flag several values. Throws std::runtime_error naming
/// the file, line and key for a syntax error, an unknown key, a nested table or a value of
/// the wrong kind; program_options checks the value itself when stored (po::error).
boost::program_options::parsed_options parse_config_file(
    const std::string& path, const boost::program_options::options_description& options,
    std::string_view own_table);

/// Parses argv and then every --config FILE (in the order given; a key set by an earlier
/// file wins, and a flag on the command line wins over every file) into vm, and runs
/// po::notify. Adds --config, --help and --version to `options` first.
/// Returns the exit code when the program should stop now: 0 after printing --help (the
/// options) or --version ("<program> <version>") to stdout, 2 after printing a usage or
/// config error (prefixed "<program>: ") to stderr. nullopt: go on.
std::optional<int> parse_command_line_and_config(
    int argc, char** argv, boost::program_options::options_description& options,
    std::string_view program, std::string_view own_table,
    boost::program_options::variables_map& vm);

/// The project version (CMake's project(VERSION)), e.g. "0.1.0".
std::string_view version() noexcept;

}  // namespace chat::server
