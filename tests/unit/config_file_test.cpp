// The TOML config file (config_file.hpp, README "Configuration"): key mapping, precedence of
// flags over files and of earlier files over later ones, and the errors of bad files.
#include "config_file.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"

namespace chat::server {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

// A temp dir of config files, removed with the object.
class ConfigFiles {
 public:
  ConfigFiles() {
    std::string tmpl = (fs::temp_directory_path() / "chat-config-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~ConfigFiles() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

 private:
  fs::path dir_;
};

struct Argv {
  explicit Argv(std::vector<std::string> args) : storage(std::move(args)) {
    for (auto& a : storage) pointers.push_back(a.data());
  }
  int argc() const { return static_cast<int>(pointers.size()); }
  std::vector<std::string> storage;
  std::vector<char*> pointers;
};

// The flags of a made-up daemon: a few of each kind the real ones have.
struct Flags {
  Flags() {
    // clang-format off
    options.add_options()
      ("listen", po::value(&listen)->default_value(listen), "")
      ("rate-limit", po::value(&rate)->default_value(rate), "")
      ("once", "")
      ("peer", po::value(&peers)->composing(), "");
    // clang-format on
    add_store_options(options, redis, mysql);
  }
  po::options_description options;
  std::string listen = "127.0.0.1:7000";
  double rate = 100;
  std::vector<std::string> peers;
  store::RedisOptions redis;
  store::MysqlOptions mysql;
  po::variables_map vm;
};

TEST(ConfigFile, MapsSharedTablesToPrefixedFlagsAndOwnTableToPlainFlags) {
  ConfigFiles files;
  const auto path = files.write("chat.toml", R"(
[redis]
host = "10.0.0.5"
port = 6380
user = "chatd"
[mysql]
database = "chatdb"
[chatd]
listen = "0.0.0.0:7100"
rate-limit = 12.5
once = true
peer = ["a:1", "b:2"]
[dumper]
interval-ms = "not even checked: another binary's table"
)");
  Flags f;
  Argv argv({"chatd", "--config", path});
  ASSERT_EQ(parse_command_line_and_config(argv.argc(), argv.pointers.data(), f.options, "chatd",
                                          "chatd", f.vm),
            std::nullopt);
  EXPECT_EQ(f.redis.host, "10.0.0.5");
  EXPECT_EQ(f.redis.port, 6380);
  EXPECT_EQ(f.redis.user, "chatd");
  EXPECT_EQ(f.mysql.database, "chatdb");
  EXPECT_EQ(f.mysql.user, store::MysqlOptions{}.user) << "unset keys keep their defaults";
  EXPECT_EQ(f.listen, "0.0.0.0:7100");
  EXPECT_DOUBLE_EQ(f.rate, 12.5);
  EXPECT_EQ(f.vm.count("once"), 1u);
  EXPECT_EQ(f.peers, (std::vector<std::string>{"a:1", "b:2"}));
}

TEST(ConfigFile, FlagsWinOverFilesAndEarlierFilesOverLaterOnes) {
  ConfigFiles files;
  const auto node = files.write("node.toml", "[chatd]\nlisten = \"127.0.0.1:7001\"\n");
  const auto shared = files.write("chat.toml",
                                  "[chatd]\nlisten = \"0.0.0.0:7000\"\nrate-limit = 5\n"
                                  "[redis]\nport = 7777\n");
  Flags f;
  Argv argv({"chatd", "--config", node, "--redis-port", "6390", "--config", shared});
  ASSERT_EQ(parse_command_line_and_config(argv.argc(), argv.pointers.data(), f.options, "chatd",
                                          "chatd", f.vm),
            std::nullopt);
  EXPECT_EQ(f.listen, "127.0.0.1:7001") << "the first file names the node's own address";
  EXPECT_DOUBLE_EQ(f.rate, 5) << "what the first file leaves unset comes from the second";
  EXPECT_EQ(f.redis.port, 6390) << "the command line wins";
}

TEST(ConfigFile, FalseLeavesASwitchOff) {
  ConfigFiles files;
  const auto path = files.write("c.toml", "[chatd]\nonce = false\n");
  Flags f;
  po::store(parse_config_file(path, f.options, "chatd"), f.vm);
  EXPECT_EQ(f.vm.count("once"), 0u);
}

TEST(ConfigFile, SharedTablesOfFlagsThisBinaryLacksAreSkipped) {
  ConfigFiles files;
  // The made-up daemon has no --metrics-* or --log-* flags: those tables are not for it.
  const auto path = files.write("c.toml",
                                "[metrics]\nlisten = \"127.0.0.1:9464\"\n"
                                "[log]\nlevel = \"debug\"\n");
  Flags f;
  EXPECT_TRUE(parse_config_file(path, f.options, "chatd").options.empty());
}

// The message of the runtime_error parse_config_file throws for `text`.
std::string error_of(const std::string& text) {
  ConfigFiles files;
  const auto path = files.write("bad.toml", text);
  Flags f;
  try {
    parse_config_file(path, f.options, "chatd");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigFile, BadFilesAreErrorsNamingFileLineAndKey) {
  const std::string unknown = error_of("[chatd]\nlisten = \"x:1\"\nlistne = \"typo:1\"\n");
  EXPECT_NE(unknown.find("bad.toml:3"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("unknown key 'chatd.listne'"), std::string::npos) << unknown;

  const std::string shared_typo = error_of("[redis]\nprot = 6379\n");
  EXPECT_NE(shared_typo.find("unknown key 'redis.prot'"), std::string::npos) << shared_typo;

  const std::string syntax = error_of("[chatd]\nlisten = \n");
  EXPECT_NE(syntax.find("bad.toml:2"), std::string::npos) << syntax;

  const std::string loose = error_of("listen = \"0.0.0.0:7000\"\n");
  EXPECT_NE(loose.find("must be inside a table"), std::string::npos) << loose;

  const std::string nested = error_of("[chatd.tls]\ncert = \"a.pem\"\n");
  EXPECT_NE(nested.find("nested table"), std::string::npos) << nested;

  const std::string switch_type = error_of("[chatd]\nonce = \"yes\"\n");
  EXPECT_NE(switch_type.find("is a switch"), std::string::npos) << switch_type;

  const std::string table_value = error_of("[chatd]\nlisten = { host = \"x\" }\n");
  EXPECT_NE(table_value.find("nested table"), std::string::npos) << table_value;

  EXPECT_EQ(error_of(""), "") << "an empty file is fine";
}

TEST(ConfigFile, CommandLineReportsBadFilesAndValuesAsUsageErrors) {
  ConfigFiles files;
  const auto bad_value = files.write("v.toml", "[chatd]\nrate-limit = \"fast\"\n");
  {
    Flags f;
    Argv argv({"chatd", "--config", bad_value});
    EXPECT_EQ(parse_command_line_and_config(argv.argc(), argv.pointers.data(), f.options, "chatd",
                                            "chatd", f.vm),
              2);
  }
  {
    Flags f;
    Argv argv({"chatd", "--config", (fs::temp_directory_path() / "no-such-chat.toml").string()});
    EXPECT_EQ(parse_command_line_and_config(argv.argc(), argv.pointers.data(), f.options, "chatd",
                                            "chatd", f.vm),
              2);
  }
  {
    Flags f;
    Argv argv({"chatd", "--version"});
    testing::internal::CaptureStdout();
    EXPECT_EQ(parse_command_line_and_config(argv.argc(), argv.pointers.data(), f.options, "chatd",
                                            "chatd", f.vm),
              0);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "chatd " + std::string(version()) + "\n");
  }
}

}  // namespace
}  // namespace chat::server
