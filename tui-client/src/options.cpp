#include "chat/tui/options.hpp"

#include <boost/program_options.hpp>
#include <charconv>
#include <sstream>

namespace chat::tui {

namespace po = boost::program_options;

std::optional<ServerAddress> parse_server_address(const std::string& text) {
  std::string host;
  std::string port;
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs brackets
  }
  if (host.empty() || port.empty()) return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value < 1 || value > 65535)
    return std::nullopt;
  return ServerAddress{host, port, text};
}

std::variant<Options, OptionsExit> parse_options(int argc, const char* const* argv) {
  po::options_description desc(
      "chat-tui: terminal client of the chat system\n\n"
      "Usage: chat-tui [--server HOST:PORT]... [--user NAME [--password PW]] [--config FILE]\n"
      "                [--tls [--ca-file FILE]]\n\n"
      "Without --user/--password a login form asks for them. Inside, /help lists the\n"
      "commands and keys.\n\nOptions");
  desc.add_options()("help", "show this help and exit")("version", "print the version and exit")(
      "server", po::value<std::vector<std::string>>()->composing(),
      "server address HOST:PORT; repeatable. The first is used; the live nodes the server "
      "reports are added, and when the connection drops the next one is tried, with a "
      "backoff of 0.2 s doubling to 5 s (default 127.0.0.1:7000)")(
      "user", po::value<std::string>(), "user name or email to log in with")(
      "password", po::value<std::string>(), "password (asked for when missing)")(
      "config", po::value<std::string>(),
      "config file (default $XDG_CONFIG_HOME/chat-tui/config, else "
      "~/.config/chat-tui/config): last server and user, keys, colours, panes, bell")(
      "tls",
      "connect over TLS (1.2+) only: the server's certificate must verify and match the "
      "server's host name or IP address; a failed handshake is a failed connection, never "
      "a plaintext fallback")(
      "ca-file", po::value<std::string>(),
      "with --tls: PEM file of the CA certificates to trust (default: the system's)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    return OptionsExit{std::string("chat-tui: ") + e.what() + "\nTry 'chat-tui --help'.\n", 2};
  }
  if (vm.count("help") != 0U) {
    std::ostringstream out;
    out << desc << "\n";
    return OptionsExit{out.str(), 0};
  }
  if (vm.count("version") != 0U) return OptionsExit{"chat-tui " CHAT_VERSION "\n", 0};
  Options options;
  std::vector<std::string> servers;
  if (vm.count("server") != 0U) servers = vm["server"].as<std::vector<std::string>>();
  options.servers_given = !servers.empty();
  if (servers.empty()) servers.emplace_back(kDefaultServer);
  for (const auto& s : servers) {
    auto address = parse_server_address(s);
    if (!address) return OptionsExit{"chat-tui: bad --server '" + s + "': expected HOST:PORT\n", 2};
    options.servers.push_back(std::move(*address));
  }
  if (vm.count("user") != 0U) options.user = vm["user"].as<std::string>();
  if (vm.count("password") != 0U) options.password = vm["password"].as<std::string>();
  if (vm.count("config") != 0U) options.config_file = vm["config"].as<std::string>();
  options.tls = vm.count("tls") != 0U;
  if (vm.count("ca-file") != 0U) {
    if (!options.tls) return OptionsExit{"chat-tui: --ca-file needs --tls\n", 2};
    options.ca_file = vm["ca-file"].as<std::string>();
  }
  return options;
}

}  // namespace chat::tui
