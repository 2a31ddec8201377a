// chatd --tls-cert/--tls-key: the client port serves TLS only (README "TLS").
#include <stdlib.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <istream>
#include <nlohmann/json.hpp>

#include "chatd_fixture.hpp"

namespace chat::test {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr auto kWait = std::chrono::seconds(10);

// A throwaway PKI in a temp dir: a CA with a server certificate for 127.0.0.1 (IP SAN), and
// a second, unrelated CA. Made with the openssl CLI; removed with the object.
class TestPki {
 public:
  TestPki() {
    std::string tmpl = (fs::temp_directory_path() / "chat-tls-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::ofstream(dir_ / "ext.cnf") << "subjectAltName=IP:127.0.0.1\n"
                                       "basicConstraints=CA:FALSE\n"
                                       "keyUsage=digitalSignature,keyEncipherment\n"
                                       "extendedKeyUsage=serverAuth\n";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509" + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=chat-test-ca");
    run("openssl req -x509" + ec +
        " -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=chat-other-ca");
    run("openssl req" + ec + " -keyout server.key -out server.csr -subj /CN=127.0.0.1");
    run("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
        " -out server.pem -days 2 -extfile ext.cnf");
  }
  ~TestPki() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  std::string file(const char* name) const { return (dir_ / name).string(); }

 private:
  void run(const std::string& command) const {
    const std::string full = "cd '" + dir_.string() + "' && " + command + " >openssl.log 2>&1";
    if (std::system(full.c_str()) != 0)
      throw std::runtime_error("failed: " + command + " (see " + file("openssl.log") + ")");
  }

  fs::path dir_;
};

// A TLS client of chatd made with Asio SSL, verifying the server against ca_file and the
// name 127.0.0.1. Every operation is bounded by kWait (io_context::run_for).
class TlsClient {
 public:
  TlsClient(std::uint16_t port, const std::string& ca_file)
      : ctx_(asio::ssl::context::tls_client), stream_(io_, ctx_) {
    ctx_.load_verify_file(ca_file);
    stream_.set_verify_mode(asio::ssl::verify_peer);
    stream_.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
    stream_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }

  /// The handshake's result (success: an empty error code).
  boost::system::error_code handshake() {
    boost::system::error_code result = asio::error::timed_out;
    stream_.async_handshake(asio::ssl::stream_base::client,
                            [&](const boost::system::error_code& ec) { result = ec; });
    run();
    return result;
  }

  /// Sends one request and returns the response with its id (events are skipped).
  json call(std::int64_t id, const std::string& op, json params = json::object()) {
    params["id"] = id;
    params["op"] = op;
    const std::string line = params.dump() + "\n";
    boost::system::error_code error = asio::error::timed_out;
    asio::async_write(stream_, asio::buffer(line),
                      [&](const boost::system::error_code& ec, std::size_t) { error = ec; });
    run();
    if (error) throw boost::system::system_error(error, "write");
    for (;;) {
      error = asio::error::timed_out;
      asio::async_read_until(stream_, in_, '\n',
                             [&](const boost::system::error_code& ec, std::size_t) { error = ec; });
      run();
      if (error) throw boost::system::system_error(error, "read");
      std::istream is(&in_);
      std::string frame;
      std::getline(is, frame);
      json j = json::parse(frame);
      if (j.contains("id") && j["id"] == id) return j;
    }
  }

 private:
  void run() {
    io_.restart();
    io_.run_for(kWait);
  }

  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ssl::stream<tcp::socket> stream_;
  asio::streambuf in_;
};

class TlsTest : public ChatdTest {
 protected:
  ChatdProcess& start_tls_chatd() {
    ChatdOptions options;
    options.extra_args = {"--tls-cert", pki_.file("server.pem"), "--tls-key",
                          pki_.file("server.key")};
    return start_chatd(options);
  }

  TestPki pki_;
};

TEST_F(TlsTest, VerifiedClientLogsInAndPings) {
  const TestUser u = db().create_user();
  ChatdProcess& node = start_tls_chatd();
  TlsClient c(node.port(), pki_.file("ca.pem"));
  ASSERT_FALSE(c.handshake()) << "handshake against the right CA";
  const json hello = c.call(1, "hello", {{"client", "tls-test/1"}});
  EXPECT_EQ(hello.value("ok", false), true) << hello.dump();
  const json login = c.call(2, "login", {{"user", u.name}, {"password", u.password}});
  ASSERT_EQ(login.value("ok", false), true) << login.dump();
  EXPECT_EQ(login.at("result").at("user").at("user_id"), u.user_id);
  const json ping = c.call(3, "ping");
  EXPECT_EQ(ping.value("ok", false), true) << ping.dump();
}

TEST_F(TlsTest, WrongCaFailsTheHandshake) {
  ChatdProcess& node = start_tls_chatd();
  TlsClient c(node.port(), pki_.file("other-ca.pem"));
  const auto ec = c.handshake();
  ASSERT_TRUE(ec) << "a server certificate from another CA must not verify";
  EXPECT_NE(ec, asio::error::timed_out) << "refused, not hung";
  // And the server is still fine for a client that trusts the right CA.
  TlsClient good(node.port(), pki_.file("ca.pem"));
  EXPECT_FALSE(good.handshake());
}

TEST_F(TlsTest, PlaintextClientGetsNoAnswer) {
  ChatdProcess& node = start_tls_chatd();
  TestClient plain(node.host(), node.port());
  plain.send_raw("{\"id\":1,\"op\":\"hello\"}\n");
  // chatd reads it as a broken TLS ClientHello and closes: no protocol frame, ever.
  EXPECT_TRUE(plain.wait_closed(Millis(5000))) << "connection should be closed";
  EXPECT_TRUE(plain.events().empty()) << "no frame may arrive in plaintext";
}

}  // namespace
}  // namespace chat::test
