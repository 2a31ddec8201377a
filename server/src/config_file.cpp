#include "config_file.hpp"

#include <toml++/toml.h>

#include <array>
#include <boost/program_options/parsers.hpp>
#include <charconv>
#include <iostream>
#include <stdexcept>
#include <vector>

namespace chat::server {
namespace {

namespace po = boost::program_options;

// Tables every binary reads, whose keys are prefixed with the table name.
constexpr std::array<std::string_view, 4> kSharedTables = {"redis", "mysql", "log", "metrics"};

std::string where(const std::string& path, const toml::node& node) {
  return path + ":" + std::to_string(node.source().begin.line);
}

// One TOML value as the text program_options parses (it converts and checks the type).
std::string scalar_text(const std::string& path, const std::string& key, const toml::node& v) {
  if (const auto* s = v.as_string()) return s->get();
  if (const auto* i = v.as_integer()) return std::to_string(i->get());
  if (const auto* b = v.as_boolean()) return b->get() ? "true" : "false";
  if (const auto* f = v.as_floating_point()) {
    std::array<char, 64> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), f->get());
    return std::string(buf.data(), r.ptr);
  }
  throw std::runtime_error(where(path, v) + ": '" + key + "' must be a string, number or boolean");
}

bool has_flag_with_prefix(const po::options_description& options, const std::string& prefix) {
  for (const auto& d : options.options())
    if (d->long_name().rfind(prefix, 0) == 0) return true;
  return false;
}

// Adds the option for `flag` from TOML value v to out.
void add_option(const std::string& path, const std::string& key, const std::string& flag,
                const toml::node& v, const po::options_description& options,
                po::parsed_options& out) {
  const auto* description = options.find_nothrow(flag, /*approx=*/false);
  if (description == nullptr)
    throw std::runtime_error(where(path, v) + ": unknown key '" + key + "' (no --" + flag + ")");
  po::option option(flag, {});
  const bool is_switch = description->semantic()->max_tokens() == 0;
  if (is_switch) {
    const auto* b = v.as_boolean();
    if (b == nullptr)
      throw std::runtime_error(where(path, v) + ": '" + key + "' is a switch: true or false");
    if (!b->get()) return;  // false: the switch stays off
  } else if (const auto* array = v.as_array()) {
    for (const auto& element : *array) option.value.push_back(scalar_text(path, key, element));
  } else {
    option.value.push_back(scalar_text(path, key, v));
  }
  option.original_tokens = {"--" + flag};
  out.options.push_back(std::move(option));
}

}  // namespace

po::parsed_options parse_config_file(const std::string& path,
                                     const po::options_description& options,
                                     std::string_view own_table) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto line = e.source().begin.line;  // 0: the file could not be read at all
    throw std::runtime_error(path + (line > 0 ? ":" + std::to_string(line) : std::string()) +
                             ": " + std::string(e.description()));
  }
  po::parsed_options out(&options);
  for (const auto& [table_key, table_node] : root) {
    const std::string table(table_key.str());
    const auto* tbl = table_node.as_table();
    if (tbl == nullptr)
      throw std::runtime_error(where(path, table_node) + ": '" + table +
                               "' must be inside a table such as [" + std::string(own_table) + "]");
    const bool own = table == own_table;
    const bool shared =
        std::find(kSharedTables.begin(), kSharedTables.end(), table) != kSharedTables.end();
    if (!own && !shared) continue;  // another binary's table
    if (shared && !has_flag_with_prefix(options, table + "-")) continue;
    for (const auto& [key_node, value] : *tbl) {
      const std::string key(key_node.str());
      if (value.is_table())
        throw std::runtime_error(where(path, value) + ": nested table '" + table + "." + key +
                                 "' is not a setting");
      add_option(path, table + "." + key, own ? key : table + "-" + key, value, options, out);
    }
  }
  return out;
}

std::optional<int> parse_command_line_and_config(int argc, char** argv,
                                                 po::options_description& options,
                                                 std::string_view program,
                                                 std::string_view own_table,
                                                 po::variables_map& vm) {
  // clang-format off
  options.add_options()
    ("config", po::value<std::vector<std::string>>()->composing(),
     "TOML config file (repeatable; a key set in an earlier file wins, flags win over files)")
    ("version", "print the version and exit");
  if (options.find_nothrow("help", false) == nullptr)
    options.add_options()("help,h", "show this help and exit");
  // clang-format on
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help") != 0U) {
      std::cout << options;
      return 0;
    }
    if (vm.count("version") != 0U) {
      std::cout << program << " " << version() << "\n";
      return 0;
    }
    if (vm.count("config") != 0U)
      for (const auto& file : vm["config"].as<std::vector<std::string>>())
        po::store(parse_config_file(file, options, own_table), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << program << ": " << e.what() << "\n(" << program << " --help lists the flags)\n";
    return 2;
  } catch (const std::runtime_error& e) {
    std::cerr << program << ": config: " << e.what() << "\n";
    return 2;
  }
  return std::nullopt;
}

std::string_view version() noexcept {
  return CHAT_VERSION;
}

}  // namespace chat::server
