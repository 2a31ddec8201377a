// chatctl: the operator's CLI. Users, meetings, audiences and the schedule in MySQL (which
// running chatd nodes re-read every --schedule-poll-ms), and a look at the live state in
// Redis (nodes, active meetings, dump lag). README "chatctl" lists the commands.
#include <mysql.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_store.hpp"
#include "admin/live_state.hpp"
#include "admin/time_arg.hpp"
#include "config.hpp"
#include "config_file.hpp"
#include "store/mysql_statement.hpp"

namespace {

namespace po = boost::program_options;
using nlohmann::json;
using namespace chat;
using admin::AdminError;
using protocol::format_timestamp;

// Exit codes: 0 done; 1 the operation failed (refused, or a store is unreachable); 2 usage.
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

/// A command line chatctl cannot act on (exit status 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Context {
  po::variables_map& vm;
  store::MysqlOptions mysql;
  store::RedisOptions redis;
  bool json = false;
};

// ---- output -------------------------------------------------------------------------------

// Prints rows under headers, columns padded to their widest cell.
void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(headers.size());
  for (std::size_t c = 0; c < headers.size(); ++c) width[c] = headers[c].size();
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], r[c].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      out += cells[c];
      if (c + 1 < cells.size()) out += std::string(width[c] - cells[c].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(headers);
  for (const auto& r : rows) line(r);
  if (rows.empty()) std::cout << "(none)\n";
}

std::string or_dash(const std::optional<std::string>& v) {
  return v ? *v : "-";
}

json user_json(const admin::UserRow& u) {
  return {{"user_id", u.user_id},
          {"name", u.name},
          {"email", u.email},
          {"age", u.age ? json(*u.age) : json(nullptr)},
          {"gender", u.gender ? json(*u.gender) : json(nullptr)},
          {"disabled", u.disabled}};
}

json meeting_json(const admin::MeetingRow& m) {
  return {{"meeting_id", m.meeting_id},
          {"title", m.title},
          {"description", m.description ? json(*m.description) : json(nullptr)},
          {"is_public", m.is_public},
          {"audience_size", m.audience},
          {"instances", m.instances}};
}

std::string instance_state(const admin::InstanceRow& i, protocol::UnixMs now) {
  if (now < i.from) return "scheduled";
  if (now < i.to) return "running";
  return "ended";
}

json instance_json(const admin::InstanceRow& i, protocol::UnixMs now) {
  return {{"meeting_id", i.meeting_id},
          {"order_id", i.order_id},
          {"from", format_timestamp(i.from)},
          {"to", format_timestamp(i.to)},
          {"state", instance_state(i, now)}};
}

void print_users(const Context& c, const std::vector<admin::UserRow>& users) {
  if (c.json) {
    json list = json::array();
    for (const auto& u : users) list.push_back(user_json(u));
    std::cout << json{{"users", list}}.dump() << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : users)
    rows.push_back({std::to_string(u.user_id), u.name, u.email,
                    u.age ? std::to_string(*u.age) : "-", or_dash(u.gender),
                    u.disabled ? "disabled" : "active"});
  print_table({"USER_ID", "NAME", "EMAIL", "AGE", "GENDER", "STATUS"}, rows);
}

// ---- arguments ----------------------------------------------------------------------------

std::string text_arg(const Context& c, const char* name) {
  if (c.vm.count(name) == 0U) throw UsageError(std::string("--") + name + " is required");
  return c.vm[name].as<std::string>();
}

std::int64_t id_arg(const Context& c, const char* name) {
  if (c.vm.count(name) == 0U) throw UsageError(std::string("--") + name + " is required");
  const auto v = c.vm[name].as<std::int64_t>();
  if (v <= 0) throw UsageError(std::string("--") + name + " must be a positive integer");
  return v;
}

std::string normalise_email(std::string email) {
  const bool ok = email.find('@') != std::string::npos && email.size() <= 255 &&
                  std::none_of(email.begin(), email.end(),
                               [](unsigned char ch) { return std::isspace(ch) != 0; });
  if (!ok) throw UsageError("not an email address: '" + email + "'");
  // Emails match case-insensitively (PROTOCOL.md); store them the way chatd compares them.
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return email;
}

std::vector<std::string> emails_arg(const Context& c) {
  if (c.vm.count("email") == 0U) throw UsageError("--email is required");
  std::vector<std::string> out;
  for (const auto& e : c.vm["email"].as<std::vector<std::string>>())
    out.push_back(normalise_email(e));
  return out;
}

// The password of user add / user passwd: --password, --password-stdin (one line) or
// CHAT_USER_PASSWORD, exactly one of the first two at most.
std::string password_arg(const Context& c) {
  const bool flag = c.vm.count("password") != 0U;
  const bool from_stdin = c.vm.count("password-stdin") != 0U;
  if (flag && from_stdin) throw UsageError("give --password or --password-stdin, not both");
  std::string password;
  if (flag) {
    password = c.vm["password"].as<std::string>();
  } else if (from_stdin) {
    if (!std::getline(std::cin, password)) throw UsageError("--password-stdin: no line on stdin");
    if (!password.empty() && password.back() == '\r') password.pop_back();
  } else if (const char* env = std::getenv("CHAT_USER_PASSWORD")) {
    password = env;
  } else {
    throw UsageError("a password is required: --password-stdin, --password or CHAT_USER_PASSWORD");
  }
  if (password.empty()) throw UsageError("the password is empty");
  return password;
}

protocol::UnixMs time_arg(const Context& c, const char* name, protocol::UnixMs now) {
  const std::string text = text_arg(c, name);
  const auto t = admin::parse_time_arg(text, now);
  if (!t)
    throw UsageError(std::string("--") + name + ": not a time: '" + text +
                     "' (use ISO-8601 UTC like 2026-11-23T09:00:00Z, now, or +30s, +2h, +1d)");
  return *t;
}

// ---- commands -----------------------------------------------------------------------------

int user_add(Context& c) {
  const std::string name = text_arg(c, "name");
  if (name.empty() || name.size() > 255) throw UsageError("--name must be 1 to 255 bytes");
  const auto emails = emails_arg(c);  // --email is repeatable (audience add); one here
  if (emails.size() != 1) throw UsageError("user add takes one --email");
  const std::string& email = emails.front();
  std::optional<int> age;
  if (c.vm.count("age") != 0U) {
    age = c.vm["age"].as<int>();
    if (*age < 0) throw UsageError("--age must not be negative");
  }
  std::optional<std::string> gender;
  if (c.vm.count("gender") != 0U) gender = c.vm["gender"].as<std::string>();
  const std::string hash = admin::hash_password(password_arg(c));
  admin::AdminStore db(c.mysql);
  const auto u = db.add_user(name, email, age, gender, hash);
  if (c.json)
    std::cout << user_json(u).dump() << "\n";
  else
    std::cout << "user " << u.user_id << " (" << u.name << ", " << u.email << ") added\n";
  return 0;
}

int user_list(Context& c) {
  admin::AdminStore db(c.mysql);
  print_users(c, db.list_users());
  return 0;
}

int user_set_disabled(Context& c, bool disabled) {
  admin::AdminStore db(c.mysql);
  const auto u = db.set_disabled(text_arg(c, "user"), disabled);
  if (c.json)
    std::cout << user_json(u).dump() << "\n";
  else
    std::cout << "user " << u.user_id << " (" << u.name << ") "
              << (disabled ? "disabled: new logins are refused" : "enabled") << "\n";
  return 0;
}

int user_passwd(Context& c) {
  const std::string login = text_arg(c, "user");
  const std::string hash = admin::hash_password(password_arg(c));
  admin::AdminStore db(c.mysql);
  const auto u = db.set_password(login, hash);
  if (c.json)
    std::cout << json{{"user_id", u.user_id}, {"name", u.name}}.dump() << "\n";
  else
    std::cout << "password of user " << u.user_id << " (" << u.name << ") changed\n";
  return 0;
}

int meeting_add(Context& c) {
  const std::string title = text_arg(c, "title");
  if (title.empty() || title.size() > 255) throw UsageError("--title must be 1 to 255 bytes");
  const bool is_public = c.vm.count("public") != 0U;
  if (is_public == (c.vm.count("private") != 0U))
    throw UsageError("give exactly one of --public and --private");
  std::optional<std::string> description;
  if (c.vm.count("description") != 0U) description = c.vm["description"].as<std::string>();
  admin::AdminStore db(c.mysql);
  const auto m = db.add_meeting(title, description, is_public);
  if (c.json)
    std::cout << meeting_json(m).dump() << "\n";
  else
    std::cout << "meeting " << m.meeting_id << " (" << m.title << ", "
              << (m.is_public ? "public" : "private") << ") added\n";
  return 0;
}

int meeting_list(Context& c) {
  admin::AdminStore db(c.mysql);
  const auto meetings = db.list_meetings();
  if (c.json) {
    json list = json::array();
    for (const auto& m : meetings) list.push_back(meeting_json(m));
    std::cout << json{{"meetings", list}}.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : meetings)
    rows.push_back({std::to_string(m.meeting_id), m.title, m.is_public ? "public" : "private",
                    std::to_string(m.audience), std::to_string(m.instances)});
  print_table({"MEETING_ID", "TITLE", "ACCESS", "AUDIENCE", "INSTANCES"}, rows);
  return 0;
}

int audience_change(Context& c, bool add) {
  const auto meeting_id = id_arg(c, "meeting");
  const auto emails = emails_arg(c);
  admin::AdminStore db(c.mysql);
  const auto changed =
      add ? db.add_audience(meeting_id, emails) : db.remove_audience(meeting_id, emails);
  std::vector<std::string> untouched;
  for (const auto& e : emails)
    if (std::find(changed.begin(), changed.end(), e) == changed.end()) untouched.push_back(e);
  if (c.json) {
    std::cout << json{{"meeting_id", meeting_id},
                      {add ? "added" : "removed", changed},
                      {add ? "already_present" : "not_present", untouched}}
                     .dump()
              << "\n";
  } else {
    for (const auto& e : changed)
      std::cout << (add ? "added " : "removed ") << e << (add ? " to" : " from") << " meeting "
                << meeting_id << "\n";
    for (const auto& e : untouched)
      std::cout << e << (add ? " was already in" : " was not in") << " the audience of meeting "
                << meeting_id << "\n";
  }
  // Adding is idempotent; removing an email that is not there is most likely a typo.
  return !add && !untouched.empty() ? kExitFailed : 0;
}

int audience_list(Context& c) {
  const auto meeting_id = id_arg(c, "meeting");
  admin::AdminStore db(c.mysql);
  const auto emails = db.list_audience(meeting_id);
  if (c.json) {
    std::cout << json{{"meeting_id", meeting_id}, {"emails", emails}}.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : emails) rows.push_back({e});
  print_table({"EMAIL"}, rows);
  return 0;
}

int instance_add(Context& c) {
  const auto meeting_id = id_arg(c, "meeting");
  const auto now = protocol::now_ms();
  const auto from = time_arg(c, "from", now);
  const auto to = time_arg(c, "to", now);
  if (from >= to) throw UsageError("--from must be before --to");
  if (to <= now)
    throw UsageError("--to is in the past: an instance whose window has passed never starts");
  admin::AdminStore db(c.mysql);
  const auto i = db.add_instance(meeting_id, from, to);
  if (c.json)
    std::cout << instance_json(i, now).dump() << "\n";
  else
    std::cout << "instance " << i.order_id << " of meeting " << i.meeting_id
              << " added: " << format_timestamp(i.from) << " .. " << format_timestamp(i.to) << "\n";
  return 0;
}

int instance_list(Context& c) {
  std::optional<std::int64_t> meeting_id;
  if (c.vm.count("meeting") != 0U) meeting_id = id_arg(c, "meeting");
  admin::AdminStore db(c.mysql);
  if (meeting_id) db.get_meeting(*meeting_id);  // an unknown id is an error, not "(none)"
  const auto now = protocol::now_ms();
  const auto instances = db.list_instances(meeting_id);
  if (c.json) {
    json list = json::array();
    for (const auto& i : instances) list.push_back(instance_json(i, now));
    std::cout << json{{"instances", list}}.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : instances)
    rows.push_back({std::to_string(i.meeting_id), std::to_string(i.order_id),
                    format_timestamp(i.from), format_timestamp(i.to), instance_state(i, now)});
  print_table({"MEETING_ID", "ORDER_ID", "FROM", "TO", "STATE"}, rows);
  return 0;
}

int instance_cancel(Context& c) {
  const auto meeting_id = id_arg(c, "meeting");
  const auto order_id = id_arg(c, "order");
  admin::AdminStore db(c.mysql);
  const auto now = protocol::now_ms();
  const auto r = db.cancel_instance(meeting_id, order_id, now);
  const bool deleted = r.action == admin::CancelResult::Action::deleted;
  if (c.json) {
    json j = instance_json(r.instance, now);
    j["action"] = deleted ? "deleted" : "ended";
    std::cout << j.dump() << "\n";
  } else if (deleted) {
    std::cout << "instance " << order_id << " of meeting " << meeting_id
              << " had not started: deleted\n";
  } else {
    std::cout << "instance " << order_id << " of meeting " << meeting_id << " ends now ("
              << format_timestamp(r.instance.to) << "); nodes end it within their schedule poll\n";
  }
  return 0;
}

int nodes(Context& c) {
  const auto list = admin::with_redis<std::vector<protocol::NodeInfo>>(
      c.redis, [](store::RedisStore& s) { return s.live_nodes(); });
  if (c.json) {
    json out = json::array();
    for (const auto& n : list)
      out.push_back({{"node", n.node}, {"address", n.address}, {"clients", n.clients}});
    std::cout << json{{"nodes", out}}.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& n : list) rows.push_back({n.node, n.address, std::to_string(n.clients)});
  print_table({"NODE", "ADDRESS", "CLIENTS"}, rows);
  return 0;
}

int status(Context& c) {
  auto active = admin::with_redis<std::vector<store::ActiveInstance>>(
      c.redis, [](store::RedisStore& s) { return s.active_instances(); });
  std::sort(active.begin(), active.end(), [](const auto& a, const auto& b) {
    return std::tie(a.from, a.key) < std::tie(b.from, b.key);
  });
  std::map<std::int64_t, std::string> titles;
  {
    admin::AdminStore db(c.mysql);
    for (auto& [id, title] : db.meeting_titles()) titles.emplace(id, std::move(title));
  }
  auto title_of = [&](std::int64_t id) {
    const auto it = titles.find(id);
    return it == titles.end() ? std::string("(deleted meeting)") : it->second;
  };
  if (c.json) {
    json out = json::array();
    for (const auto& a : active)
      out.push_back({{"meeting_id", a.key.first},
                     {"order_id", a.key.second},
                     {"title", title_of(a.key.first)},
                     {"from", format_timestamp(a.from)},
                     {"to", format_timestamp(a.to)},
                     {"participant_count", a.participants.size()}});
    std::cout << json{{"meetings", out}}.dump() << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : active)
    rows.push_back({std::to_string(a.key.first), std::to_string(a.key.second),
                    title_of(a.key.first), format_timestamp(a.from), format_timestamp(a.to),
                    std::to_string(a.participants.size())});
  print_table({"MEETING_ID", "ORDER_ID", "TITLE", "FROM", "TO", "PARTICIPANTS"}, rows);
  return 0;
}

int dump_status(Context& c) {
  const auto b = admin::with_redis<store::DumpBacklog>(
      c.redis, [](store::RedisStore& s) { return s.dump_backlog(); });
  const auto now = protocol::now_ms();
  const std::optional<std::int64_t> age =
      b.oldest ? std::optional<std::int64_t>(std::max<std::int64_t>(0, now - *b.oldest))
               : std::nullopt;
  if (c.json) {
    std::cout << json{{"outbox_entries", b.entries},
                      {"group_exists", b.group_exists},
                      {"pending", b.pending},
                      {"undelivered", b.undelivered ? json(*b.undelivered) : json(nullptr)},
                      {"consumers", b.consumers},
                      {"oldest_ts", b.oldest ? json(format_timestamp(*b.oldest)) : json(nullptr)},
                      {"oldest_age_ms", age ? json(*age) : json(nullptr)}}
                     .dump()
              << "\n";
    return 0;
  }
  std::cout << "outbox entries not yet in MySQL: " << b.entries << "\n";
  if (age)
    std::cout << "oldest undumped entry: " << format_timestamp(*b.oldest) << " (" << *age
              << " ms ago)\n";
  if (!b.group_exists) {
    std::cout << "consumer group: none yet (no dumper has run)\n";
  } else {
    std::cout << "consumer group dumpers: " << b.consumers << " consumers, " << b.pending
              << " entries in flight";
    if (b.undelivered) std::cout << ", " << *b.undelivered << " not read yet";
    std::cout << "\n";
  }
  return 0;
}

// ---- dispatch -----------------------------------------------------------------------------

struct Command {
  std::string words;               // "user add"
  std::string args;                // for the usage text
  std::vector<std::string> flags;  // flags this command takes besides the global ones
  std::function<int(Context&)> run;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> list = {
      {"user add",
       "--name N --email E [--age N] [--gender G] [--password-stdin | --password P]",
       {"name", "email", "age", "gender", "password", "password-stdin"},
       user_add},
      {"user list", "", {}, user_list},
      {"user disable",
       "--user NAME|EMAIL|ID",
       {"user"},
       [](Context& c) { return user_set_disabled(c, true); }},
      {"user enable",
       "--user NAME|EMAIL|ID",
       {"user"},
       [](Context& c) { return user_set_disabled(c, false); }},
      {"user passwd",
       "--user NAME|EMAIL|ID [--password-stdin | --password P]",
       {"user", "password", "password-stdin"},
       user_passwd},
      {"meeting add",
       "--title T [--description D] --public|--private",
       {"title", "description", "public", "private"},
       meeting_add},
      {"meeting list", "", {}, meeting_list},
      {"meetings active", "(same as status)", {}, status},
      {"audience add",
       "--meeting ID --email E [--email E]...",
       {"meeting", "email"},
       [](Context& c) { return audience_change(c, true); }},
      {"audience remove",
       "--meeting ID --email E [--email E]...",
       {"meeting", "email"},
       [](Context& c) { return audience_change(c, false); }},
      {"audience list", "--meeting ID", {"meeting"}, audience_list},
      {"instance add",
       "--meeting ID --from TIME --to TIME",
       {"meeting", "from", "to"},
       instance_add},
      {"instance list", "[--meeting ID]", {"meeting"}, instance_list},
      {"instance cancel", "--meeting ID --order N", {"meeting", "order"}, instance_cancel},
      {"nodes", "", {}, nodes},
      {"status", "", {}, status},
      {"dump-status", "", {}, dump_status},
  };
  return list;
}

std::string usage_text() {
  std::string s =
      "chatctl: administer the chat system (users, meetings, schedule; live state)\n"
      "Usage: chatctl [--config FILE] [--json] COMMAND [FLAGS]\nCommands:\n";
  for (const auto& c : commands())
    s += "  " + c.words + (c.args.empty() ? "" : " " + c.args) + "\n";
  s += "TIME: ISO-8601 UTC (2026-11-23T09:00:00Z), now, or relative +30s, +15m, +2h, +1d "
       "(negative: --from=-1h)\n"
       "Exit status: 0 done, 1 the operation failed, 2 usage error\nOptions";
  return s;
}

// Splits argv into the command words and the rest (options and their values), using the
// option table to know which options take a value.
std::pair<std::vector<std::string>, std::vector<char*>> split_command(
    int argc, char** argv, const po::options_description& options) {
  std::vector<std::string> words;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view token = argv[i];
    if (token.size() > 1 && token[0] == '-') {
      rest.push_back(argv[i]);
      if (token.find('=') != std::string_view::npos) continue;
      const std::string name(token.substr(token.starts_with("--") ? 2 : 1));
      const auto* d = options.find_nothrow(name, false);
      if (d == nullptr && name == "h") continue;
      if (d != nullptr && d->semantic()->max_tokens() > 0 && i + 1 < argc)
        rest.push_back(argv[++i]);
    } else {
      words.emplace_back(token);
    }
  }
  return {words, rest};
}

// Overwrites the value of --password in argv (like the store passwords) so `ps` shows '*'.
void hide_user_password(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* value = nullptr;
    if (std::strcmp(argv[i], "--password") == 0 && i + 1 < argc)
      value = argv[i + 1];
    else if (std::strncmp(argv[i], "--password=", 11) == 0)
      value = argv[i] + 11;
    if (value != nullptr) std::memset(value, '*', std::strlen(value));
  }
}

}  // namespace

int main(int argc, char** argv) {
  store::RedisOptions redis;
  store::MysqlOptions mysql;
  po::options_description opts(usage_text());
  // clang-format off
  opts.add_options()
    ("json", "print machine-readable JSON (one object) instead of a table")
    ("verbose,v", "log what the store connections do (to stderr)")
    ("name", po::value<std::string>(), "user add: the user's login name")
    ("email", po::value<std::vector<std::string>>(), "user add: the email; audience add/remove: an email (repeatable)")
    ("age", po::value<int>(), "user add: age (optional)")
    ("gender", po::value<std::string>(), "user add: gender (optional)")
    ("password", po::value<std::string>(), "the password (visible to other local users while chatctl starts; prefer --password-stdin or env CHAT_USER_PASSWORD)")
    ("password-stdin", "read the password from the first line of stdin")
    ("user", po::value<std::string>(), "the user: name, email or user_id")
    ("title", po::value<std::string>(), "meeting add: the title")
    ("description", po::value<std::string>(), "meeting add: the description (optional)")
    ("public", "meeting add: everybody may attend")
    ("private", "meeting add: only the audience may attend")
    ("meeting", po::value<std::int64_t>(), "the meeting_id")
    ("order", po::value<std::int64_t>(), "the order_id of a meeting instance")
    ("from", po::value<std::string>(), "instance add: start TIME")
    ("to", po::value<std::string>(), "instance add: end TIME");
  // clang-format on
  server::add_store_options(opts, redis, mysql);
  // --config, --help and --version are added by parse_command_line_and_config: register them
  // here too (same names) so split_command knows --config takes a value.
  po::options_description all;
  all.add(opts);
  all.add_options()("config", po::value<std::vector<std::string>>(), "");
  auto [words, rest] = split_command(argc, argv, all);

  po::variables_map vm;
  if (const auto stop = server::parse_command_line_and_config(
          static_cast<int>(rest.size()), rest.data(), opts, "chatctl", "chatctl", vm))
    return *stop;
  server::read_store_secrets(redis, mysql);
  server::hide_secret_arguments(argc, argv);
  hide_user_password(argc, argv);
  spdlog::set_level(vm.count("verbose") != 0U ? spdlog::level::debug : spdlog::level::off);

  std::string joined;
  for (const auto& w : words) joined += (joined.empty() ? "" : " ") + w;
  const auto& list = commands();
  const auto command =
      std::find_if(list.begin(), list.end(), [&](const Command& c) { return c.words == joined; });
  if (command == list.end()) {
    std::cerr << "chatctl: "
              << (joined.empty() ? "no command given" : "unknown command '" + joined + "'")
              << "\n(chatctl --help lists the commands)\n";
    return kExitUsage;
  }
  // A flag of another command is a mistake worth stopping for (e.g. --from on meeting add).
  static const std::vector<std::string> kCommandFlags = {
      "name",        "email",  "age",     "gender",  "password", "password-stdin", "user", "title",
      "description", "public", "private", "meeting", "order",    "from",           "to"};
  for (const auto& flag : kCommandFlags) {
    if (vm.count(flag) == 0U || vm[flag].defaulted()) continue;
    if (std::find(command->flags.begin(), command->flags.end(), flag) == command->flags.end()) {
      std::cerr << "chatctl: " << joined << " takes no --" << flag << "\n";
      return kExitUsage;
    }
  }

  if (mysql_library_init(0, nullptr, nullptr) != 0) {
    std::cerr << "chatctl: the MySQL client library failed to initialise\n";
    return kExitFailed;
  }
  Context context{vm, mysql, redis, vm.count("json") != 0U};
  int rc = 0;
  try {
    rc = command->run(context);
  } catch (const UsageError& e) {
    std::cerr << "chatctl " << joined << ": " << e.what() << "\n";
    rc = kExitUsage;
  } catch (const AdminError& e) {
    std::cerr << "chatctl " << joined << ": " << e.what() << "\n";
    rc = kExitFailed;
  } catch (const store::StoreUnavailable& e) {
    std::cerr << "chatctl " << joined << ": unavailable: " << e.what() << "\n";
    rc = kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << "chatctl " << joined << ": failed: " << e.what() << "\n";
    rc = kExitFailed;
  }
  mysql_library_end();
  return rc;
}
