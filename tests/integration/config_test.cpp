// chatd --config FILE (README "Configuration") and the Redis ACL user (--redis-user), against
// the real services: settings from the file take effect, and a refused AUTH is reported.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "chatd_fixture.hpp"
#include "private_redis.hpp"
#include "redis_probe.hpp"

namespace chat::test {
namespace {

namespace fs = std::filesystem;

// A temp dir for config and log files, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "chat-config-it-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path path(const std::string& name) const { return dir_ / name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
    return path(name).string();
  }

 private:
  fs::path dir_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ConfigTest : public ChatdTest {};

TEST_F(ConfigTest, SettingsFromTheFileTakeEffect) {
  const TestUser u = db().create_user("cfg");
  TempDir dir;
  const auto log = dir.path("chatd.log");
  // A rate limit of 2 per second with a burst of 3 (the fixture passes neither flag), and
  // the log in a file instead of stderr.
  const auto config = dir.write("chat.toml",
                                "[chatd]\nrate-limit = 2\nrate-burst = 3\n"
                                "[log]\nfile = \"" +
                                    log.string() + "\"\nlevel = \"info\"\n");
  ChatdOptions o;
  o.extra_args = {"--config", config};
  ChatdProcess& node = start_chatd(o);
  TestClient c = login(u, &node);  // hello + login: 2 of the 3 tokens
  std::vector<std::pair<std::string, json>> burst(6, {"ping", json::object()});
  const auto ids = c.send_batch(burst);
  int limited = 0;
  for (const auto id : ids)
    if (error_code(c.wait_response(id)) == "rate_limited") ++limited;
  EXPECT_GE(limited, 4) << "6 pings with at most 1 token left: the file's rate limit applies";
  EXPECT_TRUE(eventually([&] {
    return read_file(log).find("listening on " + node.address()) != std::string::npos;
  })) << "the log goes to [log] file";
  EXPECT_EQ(node.log().find("listening on"), std::string::npos) << "and not to stderr";
}

TEST_F(ConfigTest, FlagsWinOverTheFile) {
  const TestUser u = db().create_user("cfg");
  TempDir dir;
  const auto config = dir.write("chat.toml", "[chatd]\nrate-limit = 1\nrate-burst = 1\n");
  ChatdOptions o;
  o.extra_args = {"--config", config, "--rate-limit", "0"};  // 0: no limit
  ChatdProcess& node = start_chatd(o);
  TestClient c = login(u, &node);
  std::vector<std::pair<std::string, json>> burst(20, {"ping", json::object()});
  for (const auto id : c.send_batch(burst))
    EXPECT_EQ(error_code(c.wait_response(id)), "") << "--rate-limit 0 beats the file's 1";
}

TEST_F(ConfigTest, ABadFileStopsChatdWithItsLine) {
  TempDir dir;
  const auto config = dir.write("chat.toml", "[chatd]\nlisten = \"127.0.0.1:1\"\nrate-limt = 5\n");
  ChatdOptions o;
  o.extra_args = {"--config", config};
  o.wait_until_listening = false;
  ChatdProcess node(o);
  ASSERT_TRUE(eventually([&] { return !node.alive(); }, Millis(10000)));
  EXPECT_EQ(node.stop(), 2) << "a config error is a usage error";
  EXPECT_NE(node.log().find("chat.toml:3: unknown key 'chatd.rate-limt'"), std::string::npos)
      << node.log();
}

// A Redis whose default user is off: only the ACL user `chatd` may work.
class AclRedis {
 public:
  AclRedis() {
    RedisProbe admin("127.0.0.1", redis_.port());
    admin.command({"ACL", "SETUSER", "chatd", "on", ">" + password_, "~*", "&*", "+@all"});
    admin.command({"ACL", "SETUSER", "default", "off"});
  }
  std::uint16_t port() const { return redis_.port(); }
  const std::string& password() const { return password_; }

 private:
  PrivateRedis redis_;
  std::string password_ = "acl pw \"" + random_tag() + "\"";
};

TEST_F(ConfigTest, RedisAclUserFromTheConfigFile) {
  const TestUser u = db().create_user("acl");
  AclRedis redis;
  TempDir dir;
  std::string escaped;  // a TOML basic string: quotes and backslashes escaped
  for (const char ch : redis.password()) {
    if (ch == '"' || ch == '\\') escaped += '\\';
    escaped += ch;
  }
  const auto config =
      dir.write("chat.toml", "[redis]\nuser = \"chatd\"\npassword = \"" + escaped + "\"\n");
  ChatdOptions o;
  o.redis_port = redis.port();
  o.extra_args = {"--config", config};
  ChatdProcess& node = start_chatd(o);
  TestClient c = login(u, &node);
  // `nodes` reads the registry in Redis: it works only when chatd's AUTH as chatd did.
  EXPECT_TRUE(eventually([&] {
    const json r = c.call("nodes");
    return r.value("ok", false) && !r["result"]["nodes"].empty();
  })) << "chatd works as the ACL user";
  EXPECT_EQ(node.log().find(redis.password()), std::string::npos) << "no password in the log";
}

TEST_F(ConfigTest, RefusedRedisAuthIsLoggedAndAnsweredUnavailable) {
  const TestUser u = db().create_user("acl");
  AclRedis redis;
  ChatdOptions o;
  o.redis_port = redis.port();
  o.extra_args = {"--redis-user", "chatd"};
  o.wait_until_listening = false;
  // The wrong password comes through the environment, as operators are told to pass it.
  ASSERT_EQ(setenv("CHATD_REDIS_PASSWORD", "not-the-password", 1), 0);
  ChatdProcess node(o);
  unsetenv("CHATD_REDIS_PASSWORD");
  node.wait_listening();
  TestClient c = node.connect();
  c.ok("hello");
  EXPECT_EQ(c.error("nodes"), "unavailable") << "Redis refused chatd: a store error, no hang";
  EXPECT_TRUE(eventually([&] {
    return node.log().find("AUTH as user chatd refused") != std::string::npos;
  })) << node.log();
  EXPECT_EQ(node.log().find("not-the-password"), std::string::npos) << "no password in the log";
  EXPECT_TRUE(node.alive());
}

}  // namespace
}  // namespace chat::test
