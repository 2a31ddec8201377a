// chat-tui's command line.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace chat::tui {

/// A server address from --server HOST:PORT ("[v6]:port" for IPv6 literals).
struct ServerAddress {
  std::string host;
  std::string port;
  /// "host:port" as given.
  std::string text;
};

/// Parses "HOST:PORT"; nullopt when the port is missing, not a number or not 1..65535, or
/// the host is empty.
std::optional<ServerAddress> parse_server_address(const std::string& text);

/// The validated command line.
struct Options {
  std::vector<ServerAddress> servers;  // in order of preference; never empty
  bool servers_given = false;          // --server was given (else the config's server wins)
  std::optional<std::string> user;
  std::optional<std::string> password;
  std::optional<std::string> config_file;  // --config FILE
  bool tls = false;                        // --tls: every connection is TLS, never plaintext
  std::optional<std::string> ca_file;      // --ca-file: trust these CAs (else the system's)
};

/// What main() should do instead of running: print text to stdout and exit 0 (--help), or
/// print it to stderr and exit 2 (bad usage).
struct OptionsExit {
  std::string text;
  int exit_code = 0;
};

/// Default server when no --server is given.
inline constexpr const char* kDefaultServer = "127.0.0.1:7000";

/// Parses argv: --server HOST:PORT (repeatable), --user NAME, --password PW,
/// --config FILE, --tls, --ca-file FILE (needs --tls), --help.
/// Never throws.
std::variant<Options, OptionsExit> parse_options(int argc, const char* const* argv);

}  // namespace chat::tui
