// gtest main for the chat-tui unit tests: display widths come from wcwidth(), which needs a
// UTF-8 LC_CTYPE, exactly as chat-tui's own main() selects one.
#include <gtest/gtest.h>
#include <langinfo.h>

#include <clocale>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (std::setlocale(LC_ALL, "C.UTF-8") == nullptr ||
      std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0) {
    std::fprintf(stderr, "chat_tui_unit_tests: the C.UTF-8 locale is not available\n");
    return 1;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
