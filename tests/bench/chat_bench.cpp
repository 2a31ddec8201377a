// chat-bench: the load generator of issue "Benchmark against the peers". One process, one
// Asio thread, N client connections spread over one or more servers, speaking one of three
// protocols with the identical workload:
//   chat  - chatd's JSON Lines (shared/PROTOCOL.md): login, join, post; message events
//   irc   - NICK/USER, JOIN #room, PRIVMSG #room, PING/PONG (InspIRCd, ngircd)
//   redis - raw Redis pub/sub: SUBSCRIBE room on one connection, PUBLISH on another
// Every posted text is "B:<client>:<seq>:<send ns>", so each receiver records end-to-end
// latency (one clock: the same process sends and receives) and counts copies per post: lost
// and duplicated deliveries are exact. A per-room rolling hash of (sender, seq) in arrival
// order, per receiver, shows whether every client of a room saw one order.
//
// Scenarios (--scenario): fanout (closed loop with --window posts in flight per client, or open
// loop at --rate posts/s), idle (RSS per logged-in idle connection), login-storm (ping latency
// of connected clients while --storm clients log in at once), history (`messages` latency
// with --history stored messages). Output: a table on stdout, and JSON with --json FILE.
// Server CPU% and RSS come from /proc of the --server-pid processes.
#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace po = boost::program_options;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

enum class Mode { chat, irc, redis };

struct Settings {
  Mode mode = Mode::chat;
  std::string mode_name = "chat";
  std::vector<std::string> servers{"127.0.0.1:7000"};
  std::string scenario = "fanout";
  int clients = 100;
  int rooms = 10;
  std::int64_t first_meeting = 1;  // chat: rooms are meetings first_meeting .. +rooms-1
  std::string user_prefix = "bench_";
  int first_user = 0;
  std::string password = "bench-pw";
  double rate = 0;  // open loop posts/s (all clients); 0: closed loop
  int window = 1;   // closed loop: posts in flight per client
  double warmup_s = 2;
  double duration_s = 10;
  int text_bytes = 64;  // padded text size
  std::vector<int> server_pids;
  std::string json_file;
  int storm = 200;      // login-storm: clients that log in at once
  int history = 10000;  // history: stored messages
  int history_reads = 500;
  int connect_batch = 200;  // connections opened at a time during set-up
};

// ---- latency histogram: log-linear buckets over ns, 1/64 relative resolution --------------

class Histogram {
 public:
  void add(std::int64_t ns) {
    if (ns < 0) ns = 0;
    ++count_;
    max_ = std::max(max_, ns);
    ++buckets_[bucket(static_cast<std::uint64_t>(ns))];
  }
  std::int64_t count() const { return count_; }
  std::int64_t max() const { return max_; }
  // The value at quantile q (0..1), in ns (upper edge of its bucket, capped by max).
  std::int64_t quantile(double q) const {
    if (count_ == 0) return 0;
    const auto want = static_cast<std::int64_t>(std::ceil(q * static_cast<double>(count_)));
    std::int64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= want) return std::min<std::int64_t>(upper(i), max_);
    }
    return max_;
  }
  void merge(const Histogram& o) {
    count_ += o.count_;
    max_ = std::max(max_, o.max_);
    for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += o.buckets_[i];
  }

 private:
  static constexpr int kSub = 64;
  static std::size_t bucket(std::uint64_t v) {
    if (v < kSub) return v;
    const int msb = 63 - __builtin_clzll(v);
    const int shift = msb - 6;
    return static_cast<std::size_t>((shift + 1) * kSub + static_cast<int>((v >> shift) - kSub));
  }
  static std::int64_t upper(std::size_t i) {
    if (i < kSub) return static_cast<std::int64_t>(i);
    const auto shift = static_cast<int>(i / kSub) - 1;
    const auto sub = static_cast<std::int64_t>(i % kSub) + kSub;
    return ((sub + 1) << shift) - 1;
  }
  std::array<std::int64_t, 64 * 60> buckets_{};
  std::int64_t count_ = 0;
  std::int64_t max_ = 0;
};

std::int64_t now_ns(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

// ---- /proc readings of the servers --------------------------------------------------------

struct ProcSample {
  double cpu_s = 0;  // utime + stime
  std::int64_t rss_kib = 0;
  std::int64_t hwm_kib = 0;
};

std::optional<ProcSample> read_proc(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return std::nullopt;
  const auto close = text.rfind(')');
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  std::vector<std::string> f;
  while (rest >> field) f.push_back(field);
  if (f.size() < 13) return std::nullopt;
  ProcSample s;
  s.cpu_s = static_cast<double>(std::stoll(f[11]) + std::stoll(f[12])) /
            static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stoll(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) s.hwm_kib = std::stoll(line.substr(6));
  }
  return s;
}

// ---- one client connection ------------------------------------------------------------------

class Bench;

// A line-oriented connection (chat and irc: '\n'-terminated lines; redis: RESP, parsed by
// the Bench). Writes are queued and sent one async_write at a time, gathered.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Bench& bench, asio::io_context& io, int client, bool publisher)
      : bench_(bench), socket_(io), client_(client), publisher_(publisher) {}

  void start(const tcp::endpoint& ep);
  void send(const std::string& data) {
    if (closed_) return;
    pending_ += data;
    if (connected_ && !writing_) flush();  // before the connect completes: sent then
  }
  void close() {
    closed_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  int client() const { return client_; }
  bool publisher() const { return publisher_; }
  bool connected() const { return connected_; }

 private:
  void flush();
  void read();

  Bench& bench_;
  tcp::socket socket_;
  int client_;
  bool publisher_;  // redis mode: the PUBLISH connection (the other one subscribes)
  bool connected_ = false;
  bool closed_ = false;
  bool writing_ = false;
  std::string pending_;
  std::string writing_buf_;
  std::array<char, 65536> in_{};
  std::string carry_;
  friend class Bench;
};

// Per-client state.
struct Client {
  std::shared_ptr<Connection> conn;       // chat, irc; redis: the subscriber
  std::shared_ptr<Connection> publisher;  // redis only
  int room = 0;
  bool ready = false;
  std::int64_t next_seq = 0;
  int in_flight = 0;
  std::int64_t next_id = 10;
  std::uint64_t order_hash = 1469598103934665603ULL;  // FNV-1a over (sender, seq) received
  std::int64_t received = 0;
  std::int64_t login_sent_ns = 0;
  std::int64_t ping_sent_ns = -1;
};

class Bench {
 public:
  explicit Bench(Settings s) : s_(std::move(s)), start_(Clock::now()), timer_(io_) {}

  int run();

  // Called by connections.
  void on_connected(Connection& c);
  void on_data(Connection& c, std::string_view data);
  void on_closed(Connection& c, const std::string& why);

 private:
  // protocol
  void on_line(Connection& c, std::string_view line);
  void on_chat_line(Client& cl, int id, std::string_view line);
  void on_irc_line(Client& cl, int id, std::string_view line);
  void on_resp(Connection& c, std::string_view data);
  void on_payload(int receiver, std::string_view text);
  void set_ready(int id);
  void send_join(Client& cl);
  // Sends the join of client `id` again in 200 ms (its instance was not active yet).
  void retry_join(int id);
  void post(int id);
  std::string make_text(int id, std::int64_t seq);

  // phases
  void open_connections(int from, int to);
  bool wait_until(const std::function<bool()>& done, double seconds);
  void run_for(double seconds);
  int fanout();
  int idle();
  int login_storm();
  int history();
  void report(json& out);

  Settings s_;
  asio::io_context io_{1};
  Clock::time_point start_;
  asio::steady_timer timer_;
  std::vector<tcp::endpoint> endpoints_;
  std::vector<Client> clients_;
  std::vector<int> room_size_;
  int ready_count_ = 0;
  int connected_count_ = 0;
  int failures_ = 0;
  std::string last_failure_;
  bool posting_ = false;
  bool measuring_ = false;
  std::int64_t measure_start_ns_ = 0;
  std::int64_t measure_end_ns_ = 0;
  // counters in the measuring window
  std::int64_t posts_ = 0;
  std::int64_t deliveries_ = 0;
  std::int64_t errors_ = 0;
  Histogram latency_;
  // copies per post, all posts (not only the window): index = client * kMaxPosts + seq
  std::vector<std::vector<std::uint16_t>> copies_;
  std::int64_t duplicates_ = 0;
  std::int64_t unknown_ = 0;
  // scenario extras
  Histogram login_latency_;
  Histogram ping_latency_;
  Histogram history_latency_;
  int storm_from_ = -1;
};

void Connection::start(const tcp::endpoint& ep) {
  socket_.async_connect(ep, [self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec) {
      self->bench_.on_closed(*self, "connect: " + ec.message());
      return;
    }
    boost::system::error_code ignored;
    self->socket_.set_option(tcp::no_delay(true), ignored);
    self->connected_ = true;
    self->bench_.on_connected(*self);
    if (!self->writing_) self->flush();
    self->read();
  });
}

void Connection::flush() {
  if (pending_.empty() || closed_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  writing_buf_.swap(pending_);
  pending_.clear();
  asio::async_write(socket_, asio::buffer(writing_buf_),
                    [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                      if (ec) {
                        self->writing_ = false;
                        if (!self->closed_) self->bench_.on_closed(*self, "write: " + ec.message());
                        return;
                      }
                      self->writing_buf_.clear();
                      self->flush();
                    });
}

void Connection::read() {
  socket_.async_read_some(
      asio::buffer(in_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        if (ec) {
          if (!self->closed_) self->bench_.on_closed(*self, "read: " + ec.message());
          return;
        }
        self->bench_.on_data(*self, std::string_view(self->in_.data(), n));
        if (!self->closed_) self->read();
      });
}

constexpr std::int64_t kMaxPosts = 1 << 20;       // per client: bound of the seq field
constexpr std::size_t kPostsPerClient = 1 << 16;  // copy counters kept per client
// Open loop: a client with this many posts not yet fully delivered skips its turn (the
// server is saturated; the shortfall shows as posts/s below --rate).
constexpr int kOpenLoopInFlight = 64;
// How long after its start chat-bench keeps asking to join an instance that is not active yet.
constexpr std::int64_t kJoinRetryNs = 15'000'000'000;

void Bench::on_connected(Connection& c) {
  ++connected_count_;
  const int id = c.client();
  Client& cl = clients_[static_cast<std::size_t>(id)];
  const std::string name = s_.user_prefix + std::to_string(s_.first_user + id);
  cl.login_sent_ns = now_ns(start_);
  switch (s_.mode) {
    case Mode::chat:
      c.send(R"({"id":1,"op":"login","user":")" + name + R"(","password":")" + s_.password +
             "\"}\n");
      break;
    case Mode::irc:
      c.send("NICK " + name + "\r\nUSER " + name + " 0 * :chat-bench\r\n");
      break;
    case Mode::redis:
      if (!c.publisher())
        c.send("*2\r\n$9\r\nSUBSCRIBE\r\n$" + std::to_string(std::to_string(cl.room).size() + 5) +
               "\r\nroom:" + std::to_string(cl.room) + "\r\n");
      break;  // the publisher needs no set-up; readiness is the subscriber's confirmation
  }
}

void Bench::on_closed(Connection& c, const std::string& why) {
  if (c.closed_) return;
  c.closed_ = true;
  ++failures_;
  last_failure_ = "client " + std::to_string(c.client()) + ": " + why;
}

void Bench::on_data(Connection& c, std::string_view data) {
  if (s_.mode == Mode::redis) {
    on_resp(c, data);
    return;
  }
  // Lines: complete ones are handled in place, the tail is carried to the next read.
  std::string_view rest = data;
  if (!c.carry_.empty()) {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      c.carry_.append(rest);
      return;
    }
    c.carry_.append(rest.substr(0, nl));
    const std::string line = std::move(c.carry_);
    c.carry_.clear();
    on_line(c, line);
    rest.remove_prefix(nl + 1);
  }
  for (;;) {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos) break;
    on_line(c, rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  c.carry_.append(rest);
}

void Bench::on_line(Connection& c, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  Client& cl = clients_[static_cast<std::size_t>(c.client())];
  if (s_.mode == Mode::chat)
    on_chat_line(cl, c.client(), line);
  else
    on_irc_line(cl, c.client(), line);
}

// Returns the integer after `key` in line (e.g. "\"id\":"), or nullopt.
std::optional<std::int64_t> int_after(std::string_view line, std::string_view key) {
  const auto p = line.find(key);
  if (p == std::string_view::npos) return std::nullopt;
  std::int64_t v = 0;
  const char* b = line.data() + p + key.size();
  const char* e = line.data() + line.size();
  bool any = false;
  for (; b < e && *b >= '0' && *b <= '9'; ++b, any = true) v = v * 10 + (*b - '0');
  return any ? std::optional(v) : std::nullopt;
}

void Bench::on_chat_line(Client& cl, int id, std::string_view line) {
  // chatd writes keys in sorted order: events start with "event", responses with "error"
  // or "id".
  if (line.rfind("{\"event\":", 0) == 0) {
    if (line.rfind("{\"event\":\"message\"", 0) == 0) {
      const auto t = line.find("\"text\":\"B:");
      if (t != std::string_view::npos) on_payload(id, line.substr(t + 8));
    }
    return;  // joined, left, meeting_started...
  }
  const auto rid = int_after(line, "\"id\":");
  if (!rid) return;
  const bool ok = line.find("\"ok\":true") != std::string_view::npos;
  if (*rid == 1) {  // login
    if (!ok) {
      ++failures_;
      last_failure_ = "login of client " + std::to_string(id) + ": " + std::string(line);
      return;
    }
    login_latency_.add(now_ns(start_) - cl.login_sent_ns);
    if (s_.scenario == "login-storm" || s_.scenario == "idle") {
      set_ready(id);
      return;
    }
    send_join(cl);
    return;
  }
  if (*rid == 2) {  // join: already_joined is fine (a re-run with the same users)
    if (ok || line.find("already_joined") != std::string_view::npos) {
      set_ready(id);
    } else if (line.find("meeting_inactive") != std::string_view::npos &&
               now_ns(start_) < kJoinRetryNs) {
      // An instance created just before the run starts at the scheduler's next poll (up to
      // a second or two): ask again rather than fail the set-up.
      retry_join(id);
    } else {
      ++failures_;
      last_failure_ = "join of client " + std::to_string(id) + ": " + std::string(line);
    }
    return;
  }
  if (*rid == 3) {  // ping (login-storm)
    if (cl.ping_sent_ns >= 0) ping_latency_.add(now_ns(start_) - cl.ping_sent_ns);
    cl.ping_sent_ns = -1;
    return;
  }
  if (*rid == 4) {  // messages (history)
    if (cl.ping_sent_ns >= 0) history_latency_.add(now_ns(start_) - cl.ping_sent_ns);
    cl.ping_sent_ns = -1;
    if (!ok) ++errors_;
    return;
  }
  if (!ok && measuring_) ++errors_;  // a post refused (rate_limited, unavailable...)
  if (!ok) {
    last_failure_ = std::string(line.substr(0, 200));
    // A refused post will never be delivered: free its window slot.
    if (cl.in_flight > 0) --cl.in_flight;
    if (posting_ && s_.rate == 0) post(id);
  }
}

void Bench::on_irc_line(Client& cl, int id, std::string_view line) {
  if (line.rfind("PING", 0) == 0) {
    cl.conn->send("PONG" + std::string(line.substr(4)) + "\r\n");
    return;
  }
  const auto p = line.find(" PRIVMSG ");
  if (p != std::string_view::npos) {
    const auto t = line.find(" :B:", p);
    if (t != std::string_view::npos) on_payload(id, line.substr(t + 2));
    return;
  }
  // Numerics: ":server 001 nick :Welcome", ":server 366 nick #room :End of /NAMES list."
  const auto sp = line.find(' ');
  if (sp == std::string_view::npos) return;
  const std::string_view code = line.substr(sp + 1, 3);
  if (code == "001" && !cl.ready) {
    login_latency_.add(now_ns(start_) - cl.login_sent_ns);
    if (s_.scenario == "idle") {
      set_ready(id);
      return;
    }
    cl.conn->send("JOIN #room" + std::to_string(cl.room) + "\r\n");
  } else if (code == "366" && !cl.ready) {
    set_ready(id);
  } else if (code == "433" || code == "432" || line.rfind("ERROR", 0) == 0) {
    ++failures_;
    last_failure_ = "client " + std::to_string(id) + ": " + std::string(line);
  }
}

// RESP from Redis: the subscriber gets the SUBSCRIBE confirmation, then push messages
// (*3 $7 message $<n> room:<r> $<n> payload); the publisher gets integer replies (:N).
void Bench::on_resp(Connection& c, std::string_view data) {
  c.carry_.append(data);
  std::string_view buf = c.carry_;
  std::size_t used = 0;
  Client& cl = clients_[static_cast<std::size_t>(c.client())];
  auto line_end = [&](std::size_t from) { return buf.find("\r\n", from); };
  for (;;) {
    if (used >= buf.size()) break;
    if (buf[used] == ':' || buf[used] == '+' || buf[used] == '-') {
      const auto e = line_end(used);
      if (e == std::string_view::npos) break;
      if (buf[used] == '-') {
        ++errors_;
        last_failure_ = std::string(buf.substr(used, e - used));
      }
      used = e + 2;
      continue;
    }
    if (buf[used] != '*') {
      ++failures_;
      last_failure_ = "unexpected RESP from Redis";
      c.close();
      return;
    }
    // An array of bulk strings.
    auto e = line_end(used);
    if (e == std::string_view::npos) break;
    const int n = std::atoi(std::string(buf.substr(used + 1, e - used - 1)).c_str());
    std::size_t pos = e + 2;
    std::vector<std::string_view> parts;
    bool complete = true;
    for (int i = 0; i < n; ++i) {
      if (pos >= buf.size()) {
        complete = false;
        break;
      }
      const auto le = line_end(pos);
      if (le == std::string_view::npos) {
        complete = false;
        break;
      }
      if (buf[pos] == ':') {
        parts.push_back(buf.substr(pos + 1, le - pos - 1));
        pos = le + 2;
        continue;
      }
      const auto len = std::atoi(std::string(buf.substr(pos + 1, le - pos - 1)).c_str());
      if (le + 2 + static_cast<std::size_t>(len) + 2 > buf.size()) {
        complete = false;
        break;
      }
      parts.push_back(buf.substr(le + 2, static_cast<std::size_t>(len)));
      pos = le + 2 + static_cast<std::size_t>(len) + 2;
    }
    if (!complete) break;
    used = pos;
    if (parts.size() == 3 && parts[0] == "message") {
      on_payload(c.client(), parts[2]);
    } else if (parts.size() == 3 && parts[0] == "subscribe" && !cl.ready) {
      login_latency_.add(now_ns(start_) - cl.login_sent_ns);
      set_ready(c.client());
    }
  }
  c.carry_.erase(0, used);
}

// "B:<client>:<seq>:<ns>..." as received by `receiver`.
void Bench::on_payload(int receiver, std::string_view text) {
  std::int64_t f[3] = {0, 0, 0};
  std::size_t i = 2;  // after "B:"
  for (int k = 0; k < 3; ++k) {
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
      f[k] = f[k] * 10 + (text[i++] - '0');
    ++i;
  }
  const auto sender = f[0], seq = f[1], sent = f[2];
  if (sender < 0 || sender >= static_cast<std::int64_t>(clients_.size()) || seq >= kMaxPosts) {
    ++unknown_;
    return;
  }
  Client& r = clients_[static_cast<std::size_t>(receiver)];
  r.order_hash =
      (r.order_hash ^ static_cast<std::uint64_t>(sender * kMaxPosts + seq)) * 1099511628211ULL;
  ++r.received;
  auto& copies = copies_[static_cast<std::size_t>(sender)];
  if (static_cast<std::size_t>(seq) >= copies.size()) {
    ++unknown_;  // a post of an earlier run with the same users
    return;
  }
  const int expected =
      room_size_[static_cast<std::size_t>(clients_[static_cast<std::size_t>(sender)].room)] -
      (s_.mode == Mode::irc ? 1 : 0);
  const auto n = ++copies[static_cast<std::size_t>(seq)];
  if (n > expected) ++duplicates_;
  const std::int64_t t = now_ns(start_);
  if (measuring_ && sent >= measure_start_ns_) {
    ++deliveries_;
    latency_.add(t - sent);
  }
  if (n == expected) {
    Client& s = clients_[static_cast<std::size_t>(sender)];
    if (s.in_flight > 0) --s.in_flight;
    if (posting_ && s_.rate == 0) post(static_cast<int>(sender));
  }
}

void Bench::send_join(Client& cl) {
  cl.conn->send(R"({"id":2,"op":"join","meeting_id":)" +
                std::to_string(s_.first_meeting + cl.room) + "}\n");
}

void Bench::retry_join(int id) {
  auto t = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(200));
  t->async_wait([this, id, t](const boost::system::error_code& ec) {
    Client& cl = clients_[static_cast<std::size_t>(id)];
    if (!ec && cl.conn) send_join(cl);
  });
}

void Bench::set_ready(int id) {
  Client& cl = clients_[static_cast<std::size_t>(id)];
  if (cl.ready) return;
  cl.ready = true;
  ++ready_count_;
}

std::string Bench::make_text(int id, std::int64_t seq) {
  std::string t = "B:" + std::to_string(id) + ":" + std::to_string(seq) + ":" +
                  std::to_string(now_ns(start_)) + ":";
  if (static_cast<int>(t.size()) < s_.text_bytes)
    t.append(static_cast<std::size_t>(s_.text_bytes) - t.size(), 'x');
  return t;
}

void Bench::post(int id) {
  Client& cl = clients_[static_cast<std::size_t>(id)];
  const int limit = s_.rate > 0 ? kOpenLoopInFlight : s_.window;
  while (cl.ready && cl.in_flight < limit &&
         cl.next_seq < static_cast<std::int64_t>(copies_[static_cast<std::size_t>(id)].size())) {
    const std::int64_t seq = cl.next_seq++;
    ++cl.in_flight;
    if (measuring_) ++posts_;
    const std::string text = make_text(id, seq);
    switch (s_.mode) {
      case Mode::chat:
        cl.conn->send(R"({"id":)" + std::to_string(cl.next_id++) + R"(,"op":"post","meeting_id":)" +
                      std::to_string(s_.first_meeting + cl.room) + R"(,"text":")" + text + "\"}\n");
        break;
      case Mode::irc:
        cl.conn->send("PRIVMSG #room" + std::to_string(cl.room) + " :" + text + "\r\n");
        break;
      case Mode::redis: {
        const std::string channel = "room:" + std::to_string(cl.room);
        cl.publisher->send("*3\r\n$7\r\nPUBLISH\r\n$" + std::to_string(channel.size()) + "\r\n" +
                           channel + "\r\n$" + std::to_string(text.size()) + "\r\n" + text +
                           "\r\n");
        break;
      }
    }
    if (s_.rate > 0) break;  // open loop: one post per call
  }
}

void Bench::open_connections(int from, int to) {
  // Opened in batches so that the listen backlog is not overrun.
  for (int i = from; i < to; ++i) {
    Client& cl = clients_[static_cast<std::size_t>(i)];
    const auto& ep = endpoints_[static_cast<std::size_t>(i) % endpoints_.size()];
    cl.conn = std::make_shared<Connection>(*this, io_, i, false);
    cl.conn->start(ep);
    if (s_.mode == Mode::redis) {
      cl.publisher = std::make_shared<Connection>(*this, io_, i, true);
      cl.publisher->start(ep);
    }
    if ((i - from + 1) % s_.connect_batch == 0) {
      const int target = connected_count_ + s_.connect_batch / 2;
      wait_until([&] { return connected_count_ >= target || failures_ > 0; }, 10);
    }
  }
}

bool Bench::wait_until(const std::function<bool()>& done, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(seconds));
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    io_.run_for(std::chrono::milliseconds(5));
  }
  return true;
}

void Bench::run_for(double seconds) {
  wait_until([] { return false; }, seconds);
}

int Bench::fanout() {
  const auto n = static_cast<std::size_t>(s_.clients);
  copies_.assign(n, std::vector<std::uint16_t>(kPostsPerClient, 0));
  open_connections(0, s_.clients);
  if (!wait_until([&] { return ready_count_ == s_.clients || failures_ > 0; }, 120)) {
    std::cerr << "chat-bench: only " << ready_count_ << " of " << s_.clients
              << " clients ready; last failure: " << last_failure_ << "\n";
    return 1;
  }
  if (failures_ > 0) {
    std::cerr << "chat-bench: set-up failed: " << last_failure_ << "\n";
    return 1;
  }
  posting_ = true;
  std::optional<asio::steady_timer> pacer;
  double credit = 0;
  int next = 0;
  auto last = Clock::now();
  std::function<void()> pace;
  if (s_.rate > 0) {
    pacer.emplace(io_);
    pace = [&] {
      const auto t = Clock::now();
      credit += s_.rate * std::chrono::duration<double>(t - last).count();
      last = t;
      for (; credit >= 1; credit -= 1) {
        // Open loop: a client with a full window skips its turn (counted as not sent).
        for (int tries = 0; tries < s_.clients; ++tries) {
          Client& cl = clients_[static_cast<std::size_t>(next)];
          const int id = next;
          next = (next + 1) % s_.clients;
          if (cl.ready && cl.in_flight < kOpenLoopInFlight) {
            post(id);
            break;
          }
        }
      }
      pacer->expires_after(std::chrono::microseconds(500));
      pacer->async_wait([&](const boost::system::error_code& ec) {
        if (!ec && posting_) pace();
      });
    };
    pace();
  } else {
    for (int i = 0; i < s_.clients; ++i) post(i);
  }
  run_for(s_.warmup_s);
  std::vector<std::optional<ProcSample>> before;
  for (int pid : s_.server_pids) before.push_back(read_proc(pid));
  measure_start_ns_ = now_ns(start_);
  measuring_ = true;
  run_for(s_.duration_s);
  measuring_ = false;
  measure_end_ns_ = now_ns(start_);
  std::vector<std::optional<ProcSample>> after;
  for (int pid : s_.server_pids) after.push_back(read_proc(pid));
  posting_ = false;
  // Drain: every post sent must arrive (bounded wait).
  wait_until(
      [&] {
        for (const auto& c : clients_)
          if (c.in_flight > 0) return false;
        return true;
      },
      10);

  // Leave the meetings, so that a later run with the same users does not resume these
  // seats and receive this room's messages besides its own.
  if (s_.mode == Mode::chat) {
    for (auto& c : clients_)
      c.conn->send(R"({"id":5,"op":"leave","meeting_id":)" +
                   std::to_string(s_.first_meeting + c.room) + "}\n");
    run_for(0.5);
  }
  json out;
  report(out);
  double cpu = 0;
  std::int64_t rss = 0;
  for (std::size_t i = 0; i < before.size(); ++i)
    if (before[i] && after[i]) {
      cpu += (after[i]->cpu_s - before[i]->cpu_s) / s_.duration_s * 100;
      rss += after[i]->rss_kib;
    }
  out["server_cpu_percent"] = cpu;
  out["server_rss_kib"] = rss;
  // Lost: posts sent whose copies fell short of the room size.
  std::int64_t lost = 0, sent = 0;
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    const int expected =
        room_size_[static_cast<std::size_t>(clients_[i].room)] - (s_.mode == Mode::irc ? 1 : 0);
    for (std::int64_t q = 0; q < clients_[i].next_seq; ++q) {
      ++sent;
      if (copies_[i][static_cast<std::size_t>(q)] < expected)
        lost += expected - copies_[i][static_cast<std::size_t>(q)];
    }
  }
  out["posts_total"] = sent;
  out["lost"] = lost;
  out["duplicated"] = duplicates_;
  out["unknown"] = unknown_;
  // One order per room: every receiver of a room has the same hash over what it received.
  bool same_order = true;
  std::vector<std::optional<std::uint64_t>> room_hash(static_cast<std::size_t>(s_.rooms));
  if (s_.mode != Mode::irc) {  // IRC does not echo to the sender: hashes differ by design
    for (const auto& c : clients_) {
      auto& h = room_hash[static_cast<std::size_t>(c.room)];
      if (!h)
        h = c.order_hash;
      else if (*h != c.order_hash)
        same_order = false;
    }
  }
  out["same_order_in_every_room"] = s_.mode == Mode::irc ? json(nullptr) : json(same_order);
  out["failures"] = failures_;
  if (failures_ > 0) out["last_failure"] = last_failure_;

  const double secs = static_cast<double>(measure_end_ns_ - measure_start_ns_) / 1e9;
  std::cout << "| " << s_.mode_name << " | " << s_.clients << " | " << s_.rooms << " | "
            << (s_.rate > 0 ? std::to_string(static_cast<long>(s_.rate)) + "/s open"
                            : "closed w=" + std::to_string(s_.window))
            << " | " << static_cast<long>(static_cast<double>(posts_) / secs) << " | "
            << static_cast<long>(static_cast<double>(deliveries_) / secs) << " | "
            << latency_.quantile(0.5) / 1000 << " | " << latency_.quantile(0.99) / 1000 << " | "
            << latency_.quantile(0.999) / 1000 << " | " << latency_.max() / 1000 << " | " << lost
            << " | " << duplicates_ << " | " << static_cast<long>(cpu) << " | " << rss / 1024
            << " |\n";
  if (!s_.json_file.empty()) std::ofstream(s_.json_file) << out.dump(2) << "\n";
  return 0;
}

void Bench::report(json& out) {
  const double secs = static_cast<double>(measure_end_ns_ - measure_start_ns_) / 1e9;
  out["mode"] = s_.mode_name;
  out["scenario"] = s_.scenario;
  out["clients"] = s_.clients;
  out["rooms"] = s_.rooms;
  out["servers"] = s_.servers;
  out["loop"] = s_.rate > 0 ? "open" : "closed";
  out["rate"] = s_.rate;
  out["window"] = s_.window;
  out["seconds"] = secs;
  out["posts_per_s"] = static_cast<double>(posts_) / secs;
  out["deliveries_per_s"] = static_cast<double>(deliveries_) / secs;
  out["errors"] = errors_;
  auto us = [](std::int64_t ns) { return static_cast<double>(ns) / 1000.0; };
  out["latency_us"] = {{"p50", us(latency_.quantile(0.5))},
                       {"p99", us(latency_.quantile(0.99))},
                       {"p999", us(latency_.quantile(0.999))},
                       {"max", us(latency_.max())},
                       {"samples", latency_.count()}};
}

int Bench::idle() {
  std::vector<std::optional<ProcSample>> before;
  for (int pid : s_.server_pids) before.push_back(read_proc(pid));
  open_connections(0, s_.clients);
  if (!wait_until([&] { return ready_count_ == s_.clients || failures_ > 0; }, 300) ||
      failures_ > 0) {
    std::cerr << "chat-bench: " << ready_count_ << " of " << s_.clients
              << " logged in; last failure: " << last_failure_ << "\n";
    return 1;
  }
  run_for(2);  // let allocations settle
  std::int64_t grown = 0, rss = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    const auto a = read_proc(s_.server_pids[i]);
    if (before[i] && a) {
      grown += a->rss_kib - before[i]->rss_kib;
      rss += a->rss_kib;
    }
  }
  json out;
  out["mode"] = s_.mode_name;
  out["scenario"] = "idle";
  out["connections"] = s_.clients;
  out["server_rss_kib"] = rss;
  out["server_rss_growth_kib"] = grown;
  out["kib_per_connection"] = static_cast<double>(grown) / s_.clients;
  out["login_latency_us"] = {{"p50", login_latency_.quantile(0.5) / 1000},
                             {"p99", login_latency_.quantile(0.99) / 1000}};
  std::cout << "| " << s_.mode_name << " | idle | " << s_.clients << " connections | RSS "
            << rss / 1024 << " MiB | +" << grown << " KiB | "
            << static_cast<double>(grown) / s_.clients << " KiB/connection |\n";
  if (!s_.json_file.empty()) std::ofstream(s_.json_file) << out.dump(2) << "\n";
  return 0;
}

int Bench::login_storm() {
  // s_.clients connected and logged in first; then s_.storm more log in at once while the
  // first ones ping every 10 ms.
  const int base = s_.clients;
  clients_.resize(static_cast<std::size_t>(base + s_.storm));
  open_connections(0, base);
  if (!wait_until([&] { return ready_count_ == base || failures_ > 0; }, 120) || failures_) {
    std::cerr << "chat-bench: set-up failed: " << last_failure_ << "\n";
    return 1;
  }
  login_latency_ = Histogram();
  asio::steady_timer pinger(io_);
  bool pinging = true;
  std::function<void()> tick = [&] {
    const auto t = now_ns(start_);
    for (int i = 0; i < base; ++i) {
      Client& cl = clients_[static_cast<std::size_t>(i)];
      if (cl.ping_sent_ns < 0) {
        cl.ping_sent_ns = t;
        cl.conn->send("{\"id\":3,\"op\":\"ping\"}\n");
      }
    }
    pinger.expires_after(std::chrono::milliseconds(10));
    pinger.async_wait([&](const boost::system::error_code& ec) {
      if (!ec && pinging) tick();
    });
  };
  tick();
  run_for(1);
  const Histogram quiet = ping_latency_;
  ping_latency_ = Histogram();
  const auto storm_start = Clock::now();
  const int saved_batch = s_.connect_batch;
  s_.connect_batch = s_.storm + 1;  // all at once
  open_connections(base, base + s_.storm);
  s_.connect_batch = saved_batch;
  const bool all = wait_until([&] { return ready_count_ == base + s_.storm; }, 120);
  const double storm_s = std::chrono::duration<double>(Clock::now() - storm_start).count();
  pinging = false;
  pinger.cancel();
  run_for(0.1);
  json out;
  out["mode"] = s_.mode_name;
  out["scenario"] = "login-storm";
  out["connected"] = base;
  out["storm"] = s_.storm;
  out["storm_seconds"] = storm_s;
  out["all_logged_in"] = all;
  out["login_latency_ms"] = {{"p50", login_latency_.quantile(0.5) / 1e6},
                             {"p99", login_latency_.quantile(0.99) / 1e6},
                             {"max", login_latency_.max() / 1e6}};
  out["ping_ms_during_storm"] = {{"p50", ping_latency_.quantile(0.5) / 1e6},
                                 {"p99", ping_latency_.quantile(0.99) / 1e6},
                                 {"max", ping_latency_.max() / 1e6},
                                 {"samples", ping_latency_.count()}};
  out["ping_ms_before"] = {{"p99", quiet.quantile(0.99) / 1e6}};
  std::cout << "| " << s_.mode_name << " | login storm of " << s_.storm << " (" << base
            << " connected) | login p50 " << login_latency_.quantile(0.5) / 1e6 << " ms, p99 "
            << login_latency_.quantile(0.99) / 1e6 << " ms | ping p99 during it "
            << ping_latency_.quantile(0.99) / 1e6 << " ms (before: " << quiet.quantile(0.99) / 1e6
            << " ms) |\n";
  if (!s_.json_file.empty()) std::ofstream(s_.json_file) << out.dump(2) << "\n";
  return all ? 0 : 1;
}

int Bench::history() {
  // One client fills meeting first_meeting with s_.history messages (pipelined), then reads
  // `messages` (limit 100, the newest page, and pages `before` older ids) s_.history_reads
  // times, one request at a time.
  s_.clients = 1;
  clients_.resize(1);
  copies_.assign(1, std::vector<std::uint16_t>(static_cast<std::size_t>(s_.history), 0));
  room_size_.assign(1, 1);
  open_connections(0, 1);
  if (!wait_until([&] { return ready_count_ == 1 || failures_ > 0; }, 30) || failures_) {
    std::cerr << "chat-bench: set-up failed: " << last_failure_ << "\n";
    return 1;
  }
  s_.window = 200;
  posting_ = true;
  post(0);
  const bool filled = wait_until(
      [&] { return clients_[0].next_seq == s_.history && clients_[0].in_flight == 0; }, 300);
  posting_ = false;
  if (!filled) {
    std::cerr << "chat-bench: could not store " << s_.history << " messages: " << last_failure_
              << "\n";
    return 1;
  }
  Client& cl = clients_[0];
  for (int i = 0; i < s_.history_reads; ++i) {
    cl.ping_sent_ns = now_ns(start_);
    cl.conn->send(R"({"id":4,"op":"messages","meeting_id":)" + std::to_string(s_.first_meeting) +
                  R"(,"limit":100})" + "\n");
    if (!wait_until([&] { return cl.ping_sent_ns < 0; }, 10)) break;
  }
  json out;
  out["mode"] = s_.mode_name;
  out["scenario"] = "history";
  out["stored_messages"] = s_.history;
  out["reads"] = history_latency_.count();
  out["errors"] = errors_;
  out["latency_ms"] = {{"p50", history_latency_.quantile(0.5) / 1e6},
                       {"p99", history_latency_.quantile(0.99) / 1e6},
                       {"max", history_latency_.max() / 1e6}};
  std::cout << "| " << s_.mode_name << " | history: messages limit 100 of " << s_.history
            << " stored | p50 " << history_latency_.quantile(0.5) / 1e6 << " ms, p99 "
            << history_latency_.quantile(0.99) / 1e6 << " ms | " << history_latency_.count()
            << " reads, " << errors_ << " errors |\n";
  if (!s_.json_file.empty()) std::ofstream(s_.json_file) << out.dump(2) << "\n";
  return history_latency_.count() == s_.history_reads && errors_ == 0 ? 0 : 1;
}

int Bench::run() {
  for (const auto& server : s_.servers) {
    const auto colon = server.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "chat-bench: --server must be host:port\n";
      return 2;
    }
    endpoints_.emplace_back(asio::ip::make_address(server.substr(0, colon)),
                            static_cast<unsigned short>(std::stoi(server.substr(colon + 1))));
  }
  clients_.resize(static_cast<std::size_t>(s_.clients));
  room_size_.assign(static_cast<std::size_t>(std::max(s_.rooms, 1)), 0);
  for (int i = 0; i < s_.clients; ++i) {
    clients_[static_cast<std::size_t>(i)].room = i % s_.rooms;
    ++room_size_[static_cast<std::size_t>(i % s_.rooms)];
  }
  if (s_.scenario == "fanout") return fanout();
  if (s_.scenario == "idle") return idle();
  if (s_.scenario == "login-storm") return login_storm();
  if (s_.scenario == "history") return history();
  std::cerr << "chat-bench: unknown --scenario " << s_.scenario << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  std::string print_hash;
  po::options_description opts(
      "chat-bench: load generator for chatd, IRC servers and raw Redis pub/sub\nOptions");
  // clang-format off
  opts.add_options()
    ("help,h", "show this help")
    ("mode", po::value(&s.mode_name)->default_value(s.mode_name), "chat | irc | redis")
    ("server", po::value(&s.servers)->composing(), "host:port (repeatable: clients are spread over them)")
    ("scenario", po::value(&s.scenario)->default_value(s.scenario), "fanout | idle | login-storm | history")
    ("clients", po::value(&s.clients)->default_value(s.clients), "client connections")
    ("rooms", po::value(&s.rooms)->default_value(s.rooms), "rooms (chat: meetings first-meeting..+rooms-1; clients joined round-robin)")
    ("first-meeting", po::value(&s.first_meeting)->default_value(s.first_meeting), "chat: meeting id of room 0")
    ("user-prefix", po::value(&s.user_prefix)->default_value(s.user_prefix), "user/nick names are PREFIX<n>")
    ("first-user", po::value(&s.first_user)->default_value(s.first_user), "n of client 0")
    ("password", po::value(&s.password)->default_value(s.password), "chat: password of every bench user")
    ("rate", po::value(&s.rate)->default_value(s.rate), "open loop: posts per second in all; 0: closed loop")
    ("window", po::value(&s.window)->default_value(s.window), "closed loop: posts in flight per client (until every copy arrived)")
    ("warmup", po::value(&s.warmup_s)->default_value(s.warmup_s), "seconds of load before measuring")
    ("duration", po::value(&s.duration_s)->default_value(s.duration_s), "seconds measured")
    ("text-bytes", po::value(&s.text_bytes)->default_value(s.text_bytes), "message text size (padded)")
    ("server-pid", po::value(&s.server_pids)->composing(), "pid of a server process to sample CPU% and RSS of (repeatable)")
    ("storm", po::value(&s.storm)->default_value(s.storm), "login-storm: clients logging in at once")
    ("history", po::value(&s.history)->default_value(s.history), "history: messages stored first")
    ("history-reads", po::value(&s.history_reads)->default_value(s.history_reads), "history: messages requests timed")
    ("connect-batch", po::value(&s.connect_batch)->default_value(s.connect_batch), "connections opened at a time during set-up")
    ("json", po::value(&s.json_file), "write the results as JSON to this file")
    ("print-hash", po::value(&print_hash), "print a cheap Argon2id hash of this password (for bench users) and exit");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "chat-bench: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << opts;
    return 0;
  }
  if (!print_hash.empty()) {
    // Bench users log in by the thousand: the minimum Argon2id cost keeps the login storm
    // about the server, not about 64 MiB hashes. Login verifies whatever cost the hash names.
    if (sodium_init() < 0) return 1;
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, print_hash.data(), print_hash.size(), crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN) != 0)
      return 1;
    std::cout << out << "\n";
    return 0;
  }
  if (s.mode_name == "chat")
    s.mode = Mode::chat;
  else if (s.mode_name == "irc")
    s.mode = Mode::irc;
  else if (s.mode_name == "redis")
    s.mode = Mode::redis;
  else {
    std::cerr << "chat-bench: --mode is chat, irc or redis\n";
    return 2;
  }
  if (s.clients < 1 || s.rooms < 1 || s.window < 1 || s.duration_s <= 0) {
    std::cerr << "chat-bench: --clients, --rooms, --window and --duration must be positive\n";
    return 2;
  }
  // Thousands of sockets: raise the descriptor limit to the hard limit.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  try {
    Bench bench(s);
    return bench.run();
  } catch (const std::exception& e) {
    std::cerr << "chat-bench: " << e.what() << "\n";
    return 1;
  }
}
