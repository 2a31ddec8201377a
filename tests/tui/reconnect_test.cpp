// The failover policy of chat-tui: server rotation with the nodes list, backoff with
// jitter, the answer watchdog, and the status line that reports all of it.
#include "chat/tui/reconnect.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "chat/tui/layout.hpp"

namespace chat::tui {
namespace {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

std::vector<ServerAddress> servers(std::initializer_list<const char*> texts) {
  std::vector<ServerAddress> out;
  for (const char* t : texts) out.push_back(*parse_server_address(t));
  return out;
}

std::vector<std::string> texts(const ServerRotation& r) {
  std::vector<std::string> out;
  for (const auto& s : r.servers()) out.push_back(s.text);
  return out;
}

protocol::NodeInfo node(std::string name, std::string address, std::int64_t clients = 0) {
  return protocol::NodeInfo{std::move(name), std::move(address), clients};
}

// Visits `n` servers the way reconnects do: advance, then try.
std::vector<std::string> next_attempts(ServerRotation& r, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(r.advance().text);
  return out;
}

// ---- ServerRotation ----------------------------------------------------------------------------

TEST(ServerRotation, StartsAtTheFirstServerAndMovesOnBeforeEachAttempt) {
  ServerRotation r(servers({"a:1", "b:2", "c:3"}));
  EXPECT_EQ(r.current().text, "a:1");
  EXPECT_EQ(r.current().host, "a");
  EXPECT_EQ(r.current().port, "1");
  // a:1 died: the other two come first, the dead one last.
  EXPECT_EQ(next_attempts(r, 4), (std::vector<std::string>{"b:2", "c:3", "a:1", "b:2"}));
}

TEST(ServerRotation, RepeatedServerOptionsCountOnce) {
  ServerRotation r(servers({"a:1", "b:2", "a:1"}));
  EXPECT_EQ(texts(r), (std::vector<std::string>{"a:1", "b:2"}));
}

TEST(ServerRotation, EmptyListIsRejected) {
  EXPECT_THROW(ServerRotation(std::vector<ServerAddress>{}), std::invalid_argument);
}

TEST(ServerRotation, NodesAreAddedAfterTheConfiguredServersWithoutDuplicates) {
  ServerRotation r(servers({"10.0.0.1:7000", "10.0.0.2:7000"}));
  r.set_nodes(
      {node("n1", "10.0.0.1:7000", 3), node("n2", "10.0.0.2:7000"), node("n3", "10.0.0.3:7000"),
       node("n4", "10.0.0.4:7000"), node("n4-again", "10.0.0.4:7000")},
      "n1");
  EXPECT_EQ(texts(r), (std::vector<std::string>{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000",
                                                "10.0.0.4:7000"}));
  EXPECT_EQ(r.current().text, "10.0.0.1:7000");
  EXPECT_EQ(r.index(), 0u);
  // Losing n1: every other known server is tried before n1 again.
  EXPECT_EQ(next_attempts(r, 4), (std::vector<std::string>{"10.0.0.2:7000", "10.0.0.3:7000",
                                                           "10.0.0.4:7000", "10.0.0.1:7000"}));
}

TEST(ServerRotation, OwnNodeUnderAnotherNameIsNotASecondEntry) {
  // We reached node n1 as localhost:7000; it advertises 127.0.0.1:7000.
  ServerRotation r(servers({"localhost:7000"}));
  r.set_nodes({node("n1", "127.0.0.1:7000"), node("n2", "127.0.0.1:7001")}, "n1");
  EXPECT_EQ(texts(r), (std::vector<std::string>{"localhost:7000", "127.0.0.1:7001"}));
  EXPECT_EQ(r.advance().text, "127.0.0.1:7001");
  EXPECT_EQ(r.advance().text, "localhost:7000");
}

TEST(ServerRotation, DiscoveredNodesThatLeftAreDroppedConfiguredOnesStay) {
  ServerRotation r(servers({"a:1"}));
  r.set_nodes({node("na", "a:1"), node("nb", "b:2"), node("nc", "c:3")}, "na");
  EXPECT_EQ(texts(r), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  // nb left the cluster, nd joined; na (configured) is not even listed any more.
  r.set_nodes({node("nc", "c:3"), node("nd", "d:4")}, "na");
  EXPECT_EQ(texts(r), (std::vector<std::string>{"a:1", "c:3", "d:4"}));
  EXPECT_EQ(r.current().text, "a:1");
}

TEST(ServerRotation, CurrentServerStaysCurrentWhenTheListChanges) {
  ServerRotation r(servers({"a:1"}));
  r.set_nodes({node("na", "a:1"), node("nb", "b:2"), node("nc", "c:3")}, "na");
  EXPECT_EQ(r.advance().text, "b:2");  // failed over to the discovered b:2
  // On b:2 the answer lists the nodes in another order; c:3 moved before b:2.
  r.set_nodes({node("nc", "c:3"), node("nb", "b:2"), node("na", "a:1")}, "nb");
  EXPECT_EQ(texts(r), (std::vector<std::string>{"a:1", "c:3", "b:2"}));
  EXPECT_EQ(r.current().text, "b:2");
  EXPECT_EQ(r.advance().text, "a:1");  // the next after b:2, wrapping
  // An answer that does not list the node we are on keeps it anyway.
  r.set_nodes({node("nc", "c:3")}, "na");
  EXPECT_EQ(r.current().text, "a:1");
  ServerRotation r2(servers({"a:1"}));
  r2.set_nodes({node("na", "a:1"), node("nb", "b:2")}, "na");
  r2.advance();
  r2.set_nodes({node("na", "a:1")}, "");  // no hello node known
  EXPECT_EQ(r2.current().text, "b:2");
  EXPECT_EQ(texts(r2), (std::vector<std::string>{"a:1", "b:2"}));
}

TEST(ServerRotation, InvalidNodeAddressesAreIgnored) {
  ServerRotation r(servers({"a:1"}));
  r.set_nodes({node("x", "no-port"), node("y", "h:99999"), node("z", ""), node("ok", "[::1]:7")},
              "na");
  EXPECT_EQ(texts(r), (std::vector<std::string>{"a:1", "[::1]:7"}));
  EXPECT_EQ(r.servers()[1].host, "::1");
}

// ---- Backoff -----------------------------------------------------------------------------------

TEST(Backoff, BaseDelayDoublesFrom200MsUpTo5s) {
  const Backoff b(Backoff::Params{}, 1);
  EXPECT_EQ(b.base_delay(0), 200ms);
  EXPECT_EQ(b.base_delay(1), 400ms);
  EXPECT_EQ(b.base_delay(2), 800ms);
  EXPECT_EQ(b.base_delay(3), 1600ms);
  EXPECT_EQ(b.base_delay(4), 3200ms);
  EXPECT_EQ(b.base_delay(5), 5000ms);
  EXPECT_EQ(b.base_delay(6), 5000ms);
  EXPECT_EQ(b.base_delay(1000), 5000ms);  // no overflow after a long outage
}

TEST(Backoff, JitterScalesByAtMost30Percent) {
  EXPECT_EQ(Backoff::with_jitter(1000ms, 0.3, 0.0), 700ms);
  EXPECT_EQ(Backoff::with_jitter(1000ms, 0.3, 0.5), 1000ms);
  EXPECT_EQ(Backoff::with_jitter(1000ms, 0.3, 1.0), 1300ms);
  EXPECT_EQ(Backoff::with_jitter(200ms, 0.3, 0.25), 170ms);
  EXPECT_EQ(Backoff::with_jitter(1000ms, 0.0, 0.9), 1000ms);
  EXPECT_EQ(Backoff::with_jitter(1000ms, 0.3, 7.0), 1300ms);  // u clamped
}

TEST(Backoff, EveryDelayStaysWithinTheJitterBandOfItsAttempt) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Backoff b(Backoff::Params{}, seed);
    for (int attempt = 0; attempt < 12; ++attempt) {
      const auto base = b.base_delay(attempt);
      const auto d = b.next();
      EXPECT_GE(d.count(), base.count() * 7 / 10) << "seed " << seed << " attempt " << attempt;
      EXPECT_LE(d.count(), base.count() * 13 / 10) << "seed " << seed << " attempt " << attempt;
    }
    EXPECT_EQ(b.attempts(), 12);
  }
}

TEST(Backoff, GrowsUntilTheCapAndResetStartsOver) {
  Backoff b(Backoff::Params{}, 42);
  std::vector<Ms> d;
  for (int i = 0; i < 8; ++i) d.push_back(b.next());
  // Even with jitter, attempt n+2 always waits longer than attempt n until the cap.
  for (int i = 0; i + 2 < 6; ++i) EXPECT_GT(d[i + 2], d[i]) << i;
  for (int i = 5; i < 8; ++i) {
    EXPECT_GE(d[i], 3500ms);
    EXPECT_LE(d[i], 6500ms);
  }
  b.reset();
  EXPECT_EQ(b.attempts(), 0);
  const auto first = b.next();
  EXPECT_GE(first, 140ms);
  EXPECT_LE(first, 260ms);
}

TEST(Backoff, JitterSpreadsClientsApart) {
  // Many clients cut off at once must not retry in lock step.
  std::set<Ms::rep> firsts;
  Ms::rep lo = 1'000'000;
  Ms::rep hi = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    Backoff b(Backoff::Params{}, seed);
    const auto d = b.next().count();
    firsts.insert(d);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_GT(firsts.size(), 50u);
  EXPECT_LT(lo, 170);  // both ends of the 140..260 ms band are reached
  EXPECT_GT(hi, 230);
}

TEST(Backoff, CustomParamsAreHonoured) {
  Backoff b(Backoff::Params{50ms, 120ms, 0.0}, 7);
  EXPECT_EQ(b.next(), 50ms);
  EXPECT_EQ(b.next(), 100ms);
  EXPECT_EQ(b.next(), 120ms);
  EXPECT_EQ(b.next(), 120ms);
}

// ---- AnswerWatchdog ----------------------------------------------------------------------------

TEST(AnswerWatchdog, SilenceAfterARequestExpiresOnlyPastTheLimit) {
  AnswerWatchdog w(10s);
  const AnswerWatchdog::Clock::time_point t0{};
  EXPECT_FALSE(w.expired(t0 + 1h));  // nothing asked: an idle line is fine
  w.on_sent(t0);
  EXPECT_FALSE(w.expired(t0 + 10s));
  EXPECT_TRUE(w.expired(t0 + 10s + 1ms));
}

TEST(AnswerWatchdog, FramesRestartTheClockAndAnsweredRequestsStopIt) {
  AnswerWatchdog w(10s);
  const AnswerWatchdog::Clock::time_point t0{};
  w.on_sent(t0);
  w.on_sent(t0 + 8s);  // a second request does not restart the clock
  EXPECT_TRUE(w.expired(t0 + 11s));
  w.on_received(t0 + 9s, 1);  // an event or a first answer: the server is alive
  EXPECT_FALSE(w.expired(t0 + 19s));
  EXPECT_TRUE(w.expired(t0 + 20s));
  w.on_received(t0 + 20s, 0);  // all answered
  EXPECT_FALSE(w.expired(t0 + 1h));
  w.on_sent(t0 + 1h);
  w.reset();  // connection closed
  EXPECT_FALSE(w.expired(t0 + 2h));
}

// ---- status line -------------------------------------------------------------------------------

TEST(StatusText, ShowsAddressNodeAndState) {
  Status s;
  s.user = "john";
  s.server = "127.0.0.1:7001";
  s.node = "node-b";
  s.connection = ConnectionState::online;
  EXPECT_EQ(status_text(s, 0), " john @ 127.0.0.1:7001 (node-b) [online]");
  s.node.clear();
  s.connection = ConnectionState::connecting;
  EXPECT_EQ(status_text(s, 0), " john @ 127.0.0.1:7001 [connecting]");
}

TEST(StatusText, CountsDownToTheNextAttemptAndGivesTheReason) {
  ClientState state;
  state.set_pending_user("john");
  state.set_connection(ConnectionState::online, "a:1");
  state.set_node("node-a");
  state.set_connection(ConnectionState::reconnecting, "b:2", "lost a:1: closed by server", 10'000);
  EXPECT_EQ(state.status().node, "");  // not known until b:2's hello
  EXPECT_EQ(status_text(state.status(), 7'500),
            " john @ b:2 [reconnecting in 2.5 s: lost a:1: closed by server]");
  EXPECT_EQ(status_text(state.status(), 12'000),
            " john @ b:2 [reconnecting in 0.0 s: lost a:1: closed by server]");
  state.set_connection(ConnectionState::disconnected, "b:2", "connection refused");
  EXPECT_EQ(state.status().retry_at, 0);
  EXPECT_EQ(status_text(state.status(), 0), " john @ b:2 [offline: connection refused]");
}

}  // namespace
}  // namespace chat::tui
