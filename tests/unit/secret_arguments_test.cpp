// hide_secret_arguments: chatd overwrites --redis-password / --mysql-password values in its
// argument memory after parsing, so `ps` and /proc/PID/cmdline do not show them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config.hpp"

namespace chat::server {
namespace {

// argv over modifiable copies of `args` (as the kernel hands them to main).
struct Argv {
  explicit Argv(std::vector<std::string> args) : storage(std::move(args)) {
    for (auto& a : storage) pointers.push_back(a.data());
  }
  int argc() const { return static_cast<int>(pointers.size()); }
  std::vector<std::string> storage;
  std::vector<char*> pointers;
};

TEST(HideSecretArguments, OverwritesPasswordValuesInEveryForm) {
  Argv a({"chatd", "--redis-password", "r-secret", "--mysql-password=m-secret", "--mysql-pass",
          "abbrev", "--listen", "127.0.0.1:7000", "--mysql-user", "chat"});
  hide_secret_arguments(a.argc(), a.pointers.data());
  EXPECT_EQ(a.storage[2], "********");
  EXPECT_EQ(a.storage[3], "--mysql-password=********");
  EXPECT_EQ(a.storage[5], "******") << "abbreviations are accepted by the parser too";
  EXPECT_EQ(a.storage[7], "127.0.0.1:7000") << "other values stay";
  EXPECT_EQ(a.storage[9], "chat");
}

TEST(HideSecretArguments, LeavesAmbiguousPrefixesAndATrailingFlagAlone) {
  // "--redis-p" could be --redis-port: not a secret; a flag without value has nothing to hide.
  Argv a({"chatd", "--redis-p", "6379", "--redis-password"});
  hide_secret_arguments(a.argc(), a.pointers.data());
  EXPECT_EQ(a.storage[2], "6379");
  EXPECT_EQ(a.storage[3], "--redis-password");
}

}  // namespace
}  // namespace chat::server
