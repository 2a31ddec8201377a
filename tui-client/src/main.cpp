// chat-tui: the ncurses terminal client (see tui-client/README or /help inside).
#include <langinfo.h>

#include <boost/asio/io_context.hpp>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <variant>

#include "app.hpp"
#include "chat/tui/config.hpp"
#include "chat/tui/options.hpp"

namespace {

/// Selects the user's locale and makes sure LC_CTYPE is UTF-8: the protocol is UTF-8 and
/// the wide-character curses calls and wcwidth() need a UTF-8 locale to agree on widths.
void use_utf8_locale() {
  std::setlocale(LC_ALL, "");
  if (std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0) std::setlocale(LC_CTYPE, "C.UTF-8");
}

}  // namespace

int main(int argc, char** argv) {
  use_utf8_locale();
  auto parsed = chat::tui::parse_options(argc, argv);
  if (auto* exit = std::get_if<chat::tui::OptionsExit>(&parsed)) {
    (exit->exit_code == 0 ? std::cout : std::cerr) << exit->text;
    return exit->exit_code;
  }
  auto options = std::move(std::get<chat::tui::Options>(parsed));
  // The config file: --config, else under $XDG_CONFIG_HOME (or ~/.config).
  std::optional<std::filesystem::path> path;
  if (options.config_file)
    path = *options.config_file;
  else
    path = chat::tui::config_path(std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
  chat::tui::Config config;
  if (path) {
    if (auto text = chat::tui::read_text_file(*path)) config = chat::tui::parse_config(*text);
  }
  // Without --server, the server of the last login.
  if (!options.servers_given && config.server) {
    if (auto address = chat::tui::parse_server_address(*config.server))
      options.servers = {*address};
    else
      config.warnings.push_back("bad server '" + *config.server + "' ignored");
  }
  try {
    boost::asio::io_context io;
    chat::tui::App app(io, std::move(options), std::move(config), std::move(path));
    return app.run();
  } catch (const std::exception& e) {
    // App's Screen is gone by now, so the terminal is back to normal for this message.
    std::cerr << "chat-tui: " << e.what() << "\n";
    return 1;
  }
}
