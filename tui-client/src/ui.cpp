#include "chat/tui/ui.hpp"

#include <algorithm>
#include <variant>

#include "chat/tui/commands.hpp"
#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

// Colour slots are reduced modulo the palette size by the renderer; 240 is a multiple of
// every usual palette size (6, 8, 12, 16), so the hash stays evenly spread.
constexpr int kSlotSpace = 240;

constexpr std::string_view kVertical = "\u2502";
constexpr std::string_view kHorizontal = "\u2500";

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

/// Builds one row of spans that is exactly `width` columns wide: text beyond the width is
/// cut (a wide character that does not fit whole is dropped), finish() pads with spaces.
class RowBuilder {
 public:
  explicit RowBuilder(int width) : width_(std::max(0, width)) {}

  RowBuilder& add(std::string_view text, Role role, std::uint8_t flags = 0, std::uint8_t slot = 0,
                  int max_cols = -1) {
    int room = width_ - used_;
    if (max_cols >= 0) room = std::min(room, max_cols);
    if (room <= 0 || text.empty()) return *this;
    std::string t = truncate_to_width(text, room, false);
    const int w = display_width_utf8(t);
    if (w == 0 && t.empty()) return *this;
    if (!row_.spans.empty()) {
      Span& last = row_.spans.back();
      if (last.role == role && last.flags == flags && last.slot == slot) {
        last.text += t;
        used_ += w;
        return *this;
      }
    }
    row_.spans.push_back(Span{std::move(t), role, slot, flags});
    used_ += w;
    return *this;
  }

  /// Spaces up to column `col` (relative to the row).
  RowBuilder& pad_to(int col, Role role = Role::normal, std::uint8_t flags = 0) {
    if (col > used_) add(std::string(static_cast<std::size_t>(col - used_), ' '), role, flags);
    return *this;
  }

  StyledRow finish(Role role = Role::normal, std::uint8_t flags = 0) {
    pad_to(width_, role, flags);
    return std::move(row_);
  }

  int used() const noexcept { return used_; }
  int width() const noexcept { return width_; }

 private:
  int width_;
  int used_ = 0;
  StyledRow row_;
};

StyledRow blank_row(int width, Role role = Role::normal) {
  return RowBuilder(width).finish(role);
}

// "──── label ────" across the width.
StyledRow rule_row(int width, const std::string& label, Role role) {
  RowBuilder r(width);
  const std::string text = " " + label + " ";
  const int lw = display_width_utf8(text);
  const int left = std::max(2, (width - lw) / 2);
  r.add(repeat(kHorizontal, left), role);
  r.add(text, role, kBold);
  r.add(repeat(kHorizontal, std::max(0, width - left - lw)), role);
  return r.finish(role);
}

std::string plural(std::size_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

std::string_view to_string(Focus focus) noexcept {
  switch (focus) {
    case Focus::input:
      return "input";
    case Focus::meetings:
      return "meetings";
    case Focus::chat:
      return "chat";
    case Focus::participants:
      return "participants";
  }
  return "?";
}

std::size_t first_visible_row(std::size_t selected, int visible) {
  if (visible <= 0) return selected;
  const auto v = static_cast<std::size_t>(visible);
  return selected >= v ? selected - v + 1 : 0;
}

Ui::Ui(ClientState& state, ProtocolSession& session, const Config& config)
    : state_(state),
      session_(session),
      keys_(config.keys),
      bell_(config.bell),
      panes_(config.panes) {}

void Ui::set_size(int rows, int cols) {
  rows_ = std::max(0, rows);
  cols_ = std::max(0, cols);
}

Layout Ui::layout() const {
  return compute_layout(rows_, cols_, panes_);
}

bool Ui::take_bell() {
  const std::size_t n = state_.take_mention_alerts();
  return n > 0 && bell_;
}

const ChatBuffer* Ui::current_meeting_buffer() const {
  const auto cur = state_.current();
  return cur ? state_.find_buffer(*cur) : nullptr;
}

int Ui::chat_page() const {
  return std::max(1, layout().chat.height - 1);
}

// ---- keys ------------------------------------------------------------------------------------

void Ui::on_key(const KeyEvent& key, protocol::UnixMs now) {
  if (help_) {
    help_key(key);
    return;
  }
  if (login_mode()) {
    login_key(key);
    return;
  }
  if (key.text != 0) {
    // Typing always writes into the input line, whatever pane had the focus.
    focus_ = Focus::input;
    completer_.reset();
    input_.insert(key.text);
    return;
  }
  if (focus_ != Focus::input && pane_key(key.key, now)) return;
  const Action action = keys_.find(key.key);
  if (action != Action::complete && action != Action::complete_back) completer_.reset();
  run(action, now);
}

void Ui::help_key(const KeyEvent& key) {
  const Action a = keys_.find(key.key);
  if (key.key == "Up" || a == Action::scroll_line_up) {
    --help_scroll_;
  } else if (key.key == "Down" || a == Action::scroll_line_down) {
    ++help_scroll_;
  } else if (key.key == "PgUp") {
    help_scroll_ -= help_page_;
  } else if (key.key == "PgDn" || key.key == "Space" || key.text == U' ') {
    help_scroll_ += help_page_;
  } else if (key.key == "Home") {
    help_scroll_ = 0;
  } else if (key.key == "End") {
    help_scroll_ = 1 << 20;  // clamped when composed
  } else {
    // Esc, F1, q, Enter, ...: any other key closes the overlay.
    help_ = false;
    full_redraw_ = true;
  }
  help_scroll_ = std::max(0, help_scroll_);
}

void Ui::login_key(const KeyEvent& key) {
  InputLine& field = login_.active();
  if (key.text != 0) {
    field.insert(key.text);
    return;
  }
  const std::string& k = key.key;
  if (k == "Enter") {
    if (login_.enter()) {
      session_.set_credentials(login_.user().utf8(), login_.password().utf8());
      login_.reset_password();
      focus_ = Focus::meetings;
    }
  } else if (k == "Tab" || k == "S-Tab" || k == "Up" || k == "Down") {
    login_.next_field();
  } else if (k == "Backspace") {
    field.backspace();
  } else if (k == "Delete" || k == "C-d") {
    field.erase_forward();
  } else if (k == "Left" || k == "C-b") {
    field.move_left();
  } else if (k == "Right" || k == "C-f") {
    field.move_right();
  } else if (k == "Home" || k == "C-a") {
    field.move_home();
  } else if (k == "End" || k == "C-e") {
    field.move_end();
  } else if (k == "C-u") {
    field.kill_to_start();
  } else if (k == "C-k") {
    field.kill_to_end();
  } else if (k == "C-w") {
    field.kill_word_before();
  } else if (k == "C-l") {
    full_redraw_ = true;
  }
}

bool Ui::pane_key(const std::string& key, protocol::UnixMs now) {
  (void)now;
  const Layout l = layout();
  switch (focus_) {
    case Focus::meetings: {
      const int size = static_cast<int>(state_.meetings().size());
      const int page = std::max(1, l.meetings.height - 2);
      if (key == "Up") {
        state_.move_selection(-1);
      } else if (key == "Down") {
        state_.move_selection(1);
      } else if (key == "Home") {
        state_.move_selection(-size);
      } else if (key == "End") {
        state_.move_selection(size);
      } else if (key == "PgUp") {
        state_.move_selection(-page);
      } else if (key == "PgDn") {
        state_.move_selection(page);
      } else if (key == "Enter") {
        state_.clear_error();
        session_.join_selected();
        focus_ = Focus::input;
      } else {
        return false;
      }
      return true;
    }
    case Focus::chat:
      if (key == "Up") {
        state_.scroll_current(1);
      } else if (key == "Down") {
        state_.scroll_current(-1);
      } else if (key == "Enter") {
        focus_ = Focus::input;
      } else {
        return false;
      }
      return true;
    case Focus::participants: {
      const ChatBuffer* buf = current_meeting_buffer();
      const std::size_t n = buf != nullptr ? buf->participants.size() : 0;
      if (key == "Up") {
        if (participant_selected_ > 0) --participant_selected_;
      } else if (key == "Down") {
        if (participant_selected_ + 1 < n) ++participant_selected_;
      } else if (key == "Home") {
        participant_selected_ = 0;
      } else if (key == "End") {
        participant_selected_ = n > 0 ? n - 1 : 0;
      } else if (key == "Enter") {
        if (participant_selected_ < n) {
          const auto& p = buf->participants[participant_selected_];
          state_.clear_error();
          session_.list_user_messages(p.user.user_id, p.user.name);
        }
      } else {
        return false;
      }
      return true;
    }
    case Focus::input:
      return false;
  }
  return false;
}

void Ui::edit(Action action) {
  switch (action) {
    case Action::cursor_left:
      input_.move_left();
      break;
    case Action::cursor_right:
      input_.move_right();
      break;
    case Action::cursor_word_left:
      input_.move_word_left();
      break;
    case Action::cursor_word_right:
      input_.move_word_right();
      break;
    case Action::cursor_start:
      input_.move_home();
      break;
    case Action::cursor_end:
      input_.move_end();
      break;
    case Action::delete_back:
      input_.backspace();
      break;
    case Action::delete_forward:
      input_.erase_forward();
      break;
    case Action::kill_word_back:
      input_.kill_word_before();
      break;
    case Action::kill_word_forward:
      input_.kill_word_after();
      break;
    case Action::kill_to_start:
      input_.kill_to_start();
      break;
    case Action::kill_to_end:
      input_.kill_to_end();
      break;
    case Action::yank:
      input_.yank();
      break;
    default:
      break;
  }
}

void Ui::run(Action action, protocol::UnixMs now) {
  switch (action) {
    case Action::none:
      return;
    case Action::submit:
      focus_ = Focus::input;
      submit(now);
      return;
    case Action::complete:
    case Action::complete_back:
      focus_ = Focus::input;
      completer_.complete(input_, completion_sources(), action == Action::complete_back);
      return;
    case Action::history_prev:
      focus_ = Focus::input;
      if (auto e = history_.previous(input_.utf8())) input_.set_utf8(*e);
      return;
    case Action::history_next:
      focus_ = Focus::input;
      if (auto e = history_.next()) input_.set_utf8(*e);
      return;
    case Action::cursor_left:
    case Action::cursor_right:
    case Action::cursor_word_left:
    case Action::cursor_word_right:
    case Action::cursor_start:
    case Action::cursor_end:
    case Action::delete_back:
    case Action::delete_forward:
    case Action::kill_word_back:
    case Action::kill_word_forward:
    case Action::kill_to_start:
    case Action::kill_to_end:
    case Action::yank:
      focus_ = Focus::input;
      edit(action);
      return;
    case Action::scroll_page_up:
      state_.scroll_current(chat_page());
      return;
    case Action::scroll_page_down:
      state_.scroll_current(-chat_page());
      return;
    case Action::scroll_line_up:
      state_.scroll_current(1);
      return;
    case Action::scroll_line_down:
      state_.scroll_current(-1);
      return;
    case Action::scroll_top:
      state_.scroll_to_top();
      return;
    case Action::scroll_bottom:
      state_.scroll_to_bottom();
      return;
    case Action::meeting_next:
    case Action::meeting_prev: {
      const auto keys = state_.joined_in_pane_order();
      if (keys.empty()) {
        state_.set_error("no joined meeting (Enter on a meeting or /join opens one)");
        return;
      }
      const auto cur = state_.current();
      const auto it = cur ? std::find(keys.begin(), keys.end(), *cur) : keys.end();
      const std::size_t n = keys.size();
      std::size_t next = 0;
      if (it == keys.end()) {
        next = action == Action::meeting_next ? 0 : n - 1;
      } else {
        const auto i = static_cast<std::size_t>(it - keys.begin());
        next = action == Action::meeting_next ? (i + 1) % n : (i + n - 1) % n;
      }
      state_.set_current(keys[next]);
      state_.select_meeting(keys[next]);
      return;
    }
    case Action::server_buffer:
      state_.set_current(std::nullopt);
      return;
    case Action::focus_next:
      cycle_focus(1);
      return;
    case Action::focus_prev:
      cycle_focus(-1);
      return;
    case Action::focus_input:
      focus_ = Focus::input;
      return;
    case Action::focus_meetings:
      if (layout().show_meetings) focus_ = Focus::meetings;
      return;
    case Action::focus_chat:
      focus_ = Focus::chat;
      return;
    case Action::focus_participants:
      if (layout().show_participants) focus_ = Focus::participants;
      return;
    case Action::toggle_meetings:
      panes_.show_meetings = !panes_.show_meetings;
      panes_changed_ = true;
      if (focus_ == Focus::meetings && !layout().show_meetings) focus_ = Focus::input;
      return;
    case Action::toggle_participants:
      panes_.show_participants = !panes_.show_participants;
      panes_changed_ = true;
      if (focus_ == Focus::participants && !layout().show_participants) focus_ = Focus::input;
      return;
    case Action::meetings_narrower:
      resize_pane(true, -kPaneResizeStep);
      return;
    case Action::meetings_wider:
      resize_pane(true, kPaneResizeStep);
      return;
    case Action::participants_narrower:
      resize_pane(false, -kPaneResizeStep);
      return;
    case Action::participants_wider:
      resize_pane(false, kPaneResizeStep);
      return;
    case Action::help:
      help_ = !help_;
      help_scroll_ = 0;
      if (!help_) full_redraw_ = true;
      return;
    case Action::redraw:
      full_redraw_ = true;
      return;
    case Action::quit:
      quit_ = true;
      return;
    default:
      break;
  }
  const int n = meeting_number(action);
  if (n > 0) {
    if (static_cast<std::size_t>(n) > state_.meetings().size()) {
      state_.set_error("no meeting " + std::to_string(n) + " in the meetings pane");
      return;
    }
    open_row(static_cast<std::size_t>(n - 1));
  }
}

void Ui::open_row(std::size_t index) {
  const auto& meetings = state_.meetings();
  if (index >= meetings.size()) return;
  state_.clear_error();
  session_.open_meeting(MeetingKey{meetings[index].meeting_id, meetings[index].order_id});
  focus_ = Focus::input;
}

void Ui::cycle_focus(int step) {
  const Layout l = layout();
  static constexpr Focus kOrder[] = {Focus::input, Focus::meetings, Focus::chat,
                                     Focus::participants};
  int i = 0;
  for (int k = 0; k < 4; ++k)
    if (kOrder[k] == focus_) i = k;
  for (int tries = 0; tries < 4; ++tries) {
    i = (i + step + 4) % 4;
    const Focus f = kOrder[i];
    if (f == Focus::meetings && !l.show_meetings) continue;
    if (f == Focus::participants && !l.show_participants) continue;
    focus_ = f;
    return;
  }
}

void Ui::resize_pane(bool meetings, int delta) {
  const Layout l = layout();
  const int current =
      meetings
          ? (l.show_meetings ? l.meetings.width
                             : side_pane_width(kMeetingsPaneSpec, panes_.meetings_width, cols_))
          : (l.show_participants
                 ? l.participants.width
                 : side_pane_width(kParticipantsPaneSpec, panes_.participants_width, cols_));
  const int next =
      std::clamp(current + delta, kMinSidePaneCols, std::max(kMinSidePaneCols, cols_ / 2));
  if (meetings) {
    panes_.meetings_width = next;
    panes_.show_meetings = true;
  } else {
    panes_.participants_width = next;
    panes_.show_participants = true;
  }
  panes_changed_ = true;
}

CompletionSources Ui::completion_sources() const {
  CompletionSources src;
  src.commands = command_names();
  if (const ChatBuffer* buf = current_meeting_buffer()) {
    for (const auto& p : buf->participants) src.names.push_back(p.user.name);
    // People who spoke recently but left are still worth addressing.
    int seen = 0;
    for (auto it = buf->lines.rbegin(); it != buf->lines.rend() && seen < 500; ++it, ++seen)
      if (it->kind == ChatLine::Kind::message && !it->name.empty()) src.names.push_back(it->name);
  }
  for (const auto& m : state_.meetings()) src.meetings.push_back(m.title);
  if (state_.user()) src.self = state_.user()->name;
  return src;
}

void Ui::submit(protocol::UnixMs now) {
  (void)now;
  const std::string text = input_.utf8();
  const Command cmd = parse_input(text);
  const auto done = [&] {
    history_.add(text);
    input_.clear();
  };
  switch (cmd.kind) {
    case Command::Kind::none:
      return;
    case Command::Kind::post:
      state_.clear_error();
      if (session_.post(cmd.arg)) {
        done();
        state_.scroll_to_bottom();
      }
      return;
    case Command::Kind::join: {
      state_.clear_error();
      const auto found = resolve_meeting(state_.meetings(), cmd.arg);
      if (const auto* err = std::get_if<std::string>(&found)) {
        state_.set_error(*err);
        return;  // the line stays for correction
      }
      open_row(std::get<std::size_t>(found));
      break;
    }
    case Command::Kind::leave:
      state_.clear_error();
      session_.leave_current();
      break;
    case Command::Kind::who:
      state_.clear_error();
      session_.list_participants();
      break;
    case Command::Kind::msgs: {
      state_.clear_error();
      const ChatBuffer* buf = current_meeting_buffer();
      if (buf == nullptr) {
        state_.set_error("/msgs: open a meeting first");
        return;
      }
      const auto found = resolve_user(*buf, cmd.arg);
      if (const auto* err = std::get_if<std::string>(&found)) {
        state_.set_error(*err);
        return;
      }
      const auto& user = std::get<UserRef>(found);
      session_.list_user_messages(user.user_id, user.name);
      break;
    }
    case Command::Kind::jointimes:
      state_.clear_error();
      session_.list_join_times();
      break;
    case Command::Kind::meetings:
      state_.clear_error();
      session_.list_meetings();
      break;
    case Command::Kind::help:
      help_ = true;
      help_scroll_ = 0;
      break;
    case Command::Kind::quit:
      quit_ = true;
      return;
    case Command::Kind::unknown:
      state_.set_error("unknown command " + cmd.arg + " (F1 or /help lists them)");
      break;
  }
  done();
  state_.scroll_to_bottom();
}

// ---- mouse -----------------------------------------------------------------------------------

void Ui::on_mouse(const MouseEvent& ev, protocol::UnixMs now) {
  (void)now;
  if (help_) {
    help_ = false;
    full_redraw_ = true;
    return;
  }
  if (login_mode()) return;
  const Layout l = layout();
  if (ev.kind != MouseEvent::Kind::press) {
    const int dir = ev.kind == MouseEvent::Kind::wheel_up ? 1 : -1;
    if (l.show_meetings && l.meetings.contains(ev.y, ev.x))
      state_.move_selection(-dir);
    else
      state_.scroll_current(dir * kWheelRows);
    return;
  }
  if (l.show_meetings && l.meetings.contains(ev.y, ev.x)) {
    focus_ = Focus::meetings;
    const int row = ev.y - l.meetings.y - 1;  // below the header
    if (row < 0) return;
    const std::size_t index = first_visible_row(state_.selected_index(), l.meetings.height - 1) +
                              static_cast<std::size_t>(row);
    if (index < state_.meetings().size()) open_row(index);
    return;
  }
  if (l.show_participants && l.participants.contains(ev.y, ev.x)) {
    focus_ = Focus::participants;
    const int row = ev.y - l.participants.y - 1;
    const ChatBuffer* buf = current_meeting_buffer();
    if (row < 0 || buf == nullptr) return;
    const std::size_t index = first_visible_row(participant_selected_, l.participants.height - 1) +
                              static_cast<std::size_t>(row);
    if (index < buf->participants.size()) participant_selected_ = index;
    return;
  }
  if (l.chat.contains(ev.y, ev.x) || l.title.contains(ev.y, ev.x)) {
    focus_ = Focus::chat;
    return;
  }
  if (l.input.contains(ev.y, ev.x)) focus_ = Focus::input;
}

// ---- composition -----------------------------------------------------------------------------

ScreenView Ui::view(protocol::UnixMs now) {
  ScreenView v;
  const Layout l = layout();
  if (login_mode()) {
    compose_login(v, l, now);
    compose_status(v, l, now);
    PaneView input{"input", l.input, {}};
    if (l.input.height > 0) input.rows.push_back(blank_row(l.input.width));
    v.panes.push_back(std::move(input));
    return v;
  }
  // Keep the participants selection inside the list (people leave).
  if (const ChatBuffer* buf = current_meeting_buffer()) {
    if (participant_selected_ >= buf->participants.size())
      participant_selected_ = buf->participants.empty() ? 0 : buf->participants.size() - 1;
  } else {
    participant_selected_ = 0;
  }
  compose_title(v, l, now);
  compose_meetings(v, l, now);
  const int max_scroll = compose_chat(v, l, now);
  state_.clamp_scroll(max_scroll);
  compose_participants(v, l);
  for (int x : {l.left_separator_x, l.right_separator_x}) {
    if (x < 0 || l.chat.height <= 0) continue;
    PaneView sep{x == l.left_separator_x ? "separator-left" : "separator-right",
                 Rect{l.chat.y, x, l.chat.height, 1},
                 {}};
    for (int y = 0; y < l.chat.height; ++y)
      sep.rows.push_back(RowBuilder(1).add(kVertical, Role::separator).finish());
    v.panes.push_back(std::move(sep));
  }
  compose_status(v, l, now);
  compose_input(v, l);
  if (help_) compose_help(v);
  return v;
}

void Ui::compose_title(ScreenView& v, const Layout& l, protocol::UnixMs now) const {
  if (l.title.height <= 0) return;
  PaneView p{"title", l.title, {}};
  RowBuilder r(l.title.width);
  const auto cur = state_.current();
  const ChatBuffer* buf = cur ? state_.find_buffer(*cur) : nullptr;
  if (buf == nullptr) {
    r.add(" chat-tui", Role::title, kBold);
    r.add(" \u2014 select a meeting and press Enter, or /join <title>; F1: keys and commands",
          Role::title);
  } else {
    std::string right;
    if (buf->ended)
      right = "[ended] ";
    else if (!buf->joined)
      right = "[not joined] ";
    if (const auto* m = state_.find_meeting(*cur)) {
      right += std::string(m->is_public ? "public" : "private") + " \u00b7 " +
               plural(static_cast<std::size_t>(std::max<std::int64_t>(0, m->participant_count)),
                      "participant") +
               " \u00b7 until " + format_hhmm(m->to) + " (" + format_time_left(m->to, now) +
               " left) ";
    }
    int right_w = display_width_utf8(right);
    if (l.title.width - right_w < 16) {
      right.clear();
      right_w = 0;
    }
    const int left_w = l.title.width - right_w;
    // A truncated description stops one column short, so it never runs into the right part.
    const int text_w = right_w > 0 ? left_w - 1 : left_w;
    r.add(" " + buf->title, Role::title, kBold, 0, text_w);
    if (const auto desc = state_.description_of(*cur); desc && !desc->empty())
      r.add(" \u2014 " + *desc, Role::title, 0, 0, text_w - r.used());
    r.pad_to(left_w, Role::title);
    r.add(right, Role::title);
  }
  p.rows.push_back(r.finish(Role::title));
  v.panes.push_back(std::move(p));
}

void Ui::compose_meetings(ScreenView& v, const Layout& l, protocol::UnixMs now) const {
  if (!l.show_meetings || l.meetings.height <= 0) return;
  PaneView p{"meetings", l.meetings, {}};
  const int w = l.meetings.width;
  const auto& meetings = state_.meetings();
  const bool focused = focus_ == Focus::meetings;
  p.rows.push_back(RowBuilder(w)
                       .add(" Meetings (" + std::to_string(meetings.size()) + ")",
                            focused ? Role::header_focus : Role::header, kBold)
                       .finish(focused ? Role::header_focus : Role::header));
  const int visible = l.meetings.height - 1;
  if (meetings.empty() && visible > 0) {
    p.rows.push_back(RowBuilder(w).add(" (none active)", Role::dim).finish());
  }
  const std::size_t selected = state_.selected_index();
  const std::size_t top = first_visible_row(selected, visible);
  for (int i = static_cast<int>(p.rows.size()) - 1; i < visible; ++i) {
    const std::size_t idx = top + static_cast<std::size_t>(i);
    if (meetings.empty() || idx >= meetings.size()) {
      p.rows.push_back(blank_row(w));
      continue;
    }
    const auto& m = meetings[idx];
    const MeetingKey key{m.meeting_id, m.order_id};
    const ChatBuffer* buf = state_.find_buffer(key);
    MeetingRowInfo info;
    info.selected = idx == selected;
    info.joined = buf != nullptr && buf->joined;
    info.number = idx < 9 ? static_cast<int>(idx) + 1 : 0;
    info.unread = buf != nullptr ? buf->unread : 0;
    info.mention = buf != nullptr && buf->mentions > 0;
    info.now = now;
    const auto parts = meeting_row_parts(m, info, w);
    const std::uint8_t f = info.selected && focused ? kReverse : 0;
    const std::uint8_t cur = state_.current() == key ? (kBold | kUnderline) : 0;
    const Role title_role = info.mention      ? Role::mention
                            : info.unread > 0 ? Role::unread
                                              : Role::normal;
    const std::uint8_t title_flags = info.unread > 0 ? kBold : 0;
    p.rows.push_back(RowBuilder(w)
                         .add(parts.head, Role::normal, f | (info.selected ? kBold : 0))
                         .add(parts.title, title_role, f | cur | title_flags)
                         .add(parts.unread, info.mention ? Role::mention : Role::unread, f | kBold)
                         .add(parts.left, Role::dim, f)
                         .finish(Role::normal, f));
  }
  v.panes.push_back(std::move(p));
}

int Ui::compose_chat(ScreenView& v, const Layout& l, protocol::UnixMs now) const {
  const Rect& r = l.chat;
  if (r.width <= 0 || r.height <= 0) return 0;
  PaneView p{"chat", r, {}};
  const ChatBuffer& buf = state_.current_buffer();
  const int visible = r.height;
  const int scroll_in = std::max(0, buf.scroll);
  // Wrap only what can be shown at this scroll position, plus one row to know whether
  // there is more to scroll back to.
  const std::size_t wanted =
      static_cast<std::size_t>(visible) + static_cast<std::size_t>(scroll_in) + 1;
  ChatRowOptions options;
  options.today = now;
  const auto rows = chat_rows(buf, r.width, wanted, options);
  const int n = static_cast<int>(rows.size());
  const int max_scroll = rows.size() < wanted ? std::max(0, n - visible) : scroll_in + 1;
  const int scroll = std::clamp(scroll_in, 0, max_scroll);
  const int end = n - scroll;  // one past the last row shown
  const int begin = std::max(0, end - visible);
  // Bottom-aligned like a terminal: the newest row sits right above the status bar.
  for (int i = 0; i < visible - (end - begin); ++i) p.rows.push_back(blank_row(r.width));
  const std::int64_t me = state_.user() ? state_.user()->user_id : 0;
  for (int i = begin; i < end; ++i) {
    const ChatRow& row = rows[static_cast<std::size_t>(i)];
    if (row.type == ChatRow::Type::marker) {
      p.rows.push_back(rule_row(r.width, row.text, Role::marker));
      continue;
    }
    if (row.type == ChatRow::Type::day) {
      p.rows.push_back(rule_row(r.width, row.text, Role::day));
      continue;
    }
    Role prefix_role = Role::normal;
    Role text_role = Role::normal;
    std::uint8_t prefix_flags = kBold;
    std::uint8_t slot = 0;
    switch (row.kind) {
      case ChatLine::Kind::message:
        if (row.mention) {
          prefix_role = Role::highlight;
        } else if (me != 0 && row.user_id == me) {
          prefix_role = Role::self;
        } else {
          prefix_role = Role::nick;
          slot = static_cast<std::uint8_t>(name_color_slot(row.name, kSlotSpace));
        }
        break;
      case ChatLine::Kind::joined:
        prefix_role = text_role = Role::joined;
        prefix_flags = 0;
        break;
      case ChatLine::Kind::left:
        prefix_role = text_role = Role::left;
        prefix_flags = 0;
        break;
      case ChatLine::Kind::info:
        prefix_role = text_role = Role::info;
        prefix_flags = 0;
        break;
      case ChatLine::Kind::error:
        prefix_role = text_role = Role::error;
        break;
    }
    RowBuilder b(r.width);
    if (row.first) {
      b.add(row.time, Role::time).add(" ", Role::normal);
      b.add(row.prefix, prefix_role, prefix_flags, slot);
    }
    b.pad_to(row.text_col - 3);
    b.add(kChatPrefixSeparator, Role::separator);
    b.add(row.text, text_role);
    p.rows.push_back(b.finish());
  }
  v.panes.push_back(std::move(p));
  return max_scroll;
}

void Ui::compose_participants(ScreenView& v, const Layout& l) const {
  if (!l.show_participants || l.participants.height <= 0) return;
  PaneView p{"participants", l.participants, {}};
  const int w = l.participants.width;
  const ChatBuffer* buf = current_meeting_buffer();
  const std::size_t n = buf != nullptr ? buf->participants.size() : 0;
  const bool focused = focus_ == Focus::participants;
  // The header names the count even in a narrow pane.
  std::string header = " Participants (" + std::to_string(n) + ")";
  if (display_width_utf8(header) > w) header = " People (" + std::to_string(n) + ")";
  p.rows.push_back(RowBuilder(w)
                       .add(header, focused ? Role::header_focus : Role::header, kBold)
                       .finish(focused ? Role::header_focus : Role::header));
  const int visible = l.participants.height - 1;
  const std::size_t top = focused ? first_visible_row(participant_selected_, visible) : 0;
  const bool more = !focused && static_cast<int>(n) > visible && visible > 0;
  const std::int64_t me = state_.user() ? state_.user()->user_id : 0;
  for (int i = 0; i < visible; ++i) {
    const std::size_t idx = top + static_cast<std::size_t>(i);
    if (more && i == visible - 1) {
      p.rows.push_back(
          RowBuilder(w).add(" +" + std::to_string(n - idx) + " more", Role::dim).finish());
      continue;
    }
    if (idx >= n) {
      p.rows.push_back(blank_row(w));
      continue;
    }
    const auto& q = buf->participants[idx];
    const auto parts = participant_row_parts(q, w);
    const std::uint8_t f = focused && idx == participant_selected_ ? kReverse : 0;
    const bool self = me != 0 && q.user.user_id == me;
    p.rows.push_back(RowBuilder(w)
                         .add(parts.name, self ? Role::self : Role::nick, f | (self ? kBold : 0),
                              static_cast<std::uint8_t>(name_color_slot(q.user.name, kSlotSpace)))
                         .add(parts.time, Role::dim, f)
                         .finish(Role::normal, f));
  }
  v.panes.push_back(std::move(p));
}

void Ui::compose_status(ScreenView& v, const Layout& l, protocol::UnixMs now) const {
  if (l.status.height <= 0) return;
  PaneView p{"status", l.status, {}};
  const Status& s = state_.status();
  std::string extra;
  if (s.latency_ms && s.connection == ConnectionState::online)
    extra += " " + std::to_string(*s.latency_ms) + " ms";
  if (!login_mode() && state_.current_buffer().scroll > 0) extra += " -MORE-";
  std::string hint;
  if (login_mode()) {
    hint = " Ctrl-C quit ";
  } else if (completer_.active()) {
    hint = " Tab:";
    for (std::size_t i = 0; i < completer_.candidates().size() && i < 8; ++i)
      hint += " " + completer_.candidates()[i];
    hint += " ";
  } else if (focus_ != Focus::input) {
    hint = " [" + std::string(to_string(focus_)) + "] F1 help ";
  } else {
    hint = " F1 help ";
  }
  RowBuilder r(l.status.width);
  const int hint_w = std::min(display_width_utf8(hint), l.status.width / 2);
  const int left_w = l.status.width - hint_w;
  // On a narrow screen the node name goes first, then the server: the connection state
  // must stay visible.
  Status no_node = s;
  no_node.node.clear();
  std::string text = status_text(s, now) + extra;
  if (display_width_utf8(text) > left_w) text = status_text(no_node, now) + extra;
  if (display_width_utf8(text) > left_w) {
    std::string compact = status_text(no_node, now);
    const auto at = compact.find(" @ ");
    const auto bracket = compact.find(" [");
    if (at != std::string::npos && bracket != std::string::npos && at < bracket)
      compact.erase(at, bracket - at);
    text = compact + extra;
  }
  r.add(text, Role::status, kBold, 0, left_w);
  if (!s.last_error.empty())
    r.add("  error: " + s.last_error, Role::status_error, kBold, 0, left_w - r.used());
  r.pad_to(left_w, Role::status);
  r.add(hint, Role::status_hint);
  p.rows.push_back(r.finish(Role::status));
  v.panes.push_back(std::move(p));
}

void Ui::compose_input(ScreenView& v, const Layout& l) const {
  if (l.input.height <= 0) return;
  PaneView p{"input", l.input, {}};
  const int w = l.input.width;
  RowBuilder r(w);
  const bool focused = focus_ == Focus::input;
  r.add(focused ? "> " : "  ", Role::prompt, kBold);
  int cursor_col = r.used();
  if (input_.empty() && !focused) {
    std::string hint;
    switch (focus_) {
      case Focus::meetings:
        hint = "Up/Down select, Enter open, type to write, F1 keys";
        break;
      case Focus::chat:
        hint = "Up/Down/PgUp/PgDn/Home/End scroll, Esc back to typing";
        break;
      case Focus::participants:
        hint = "Up/Down select, Enter: their messages, Esc back to typing";
        break;
      case Focus::input:
        break;
    }
    r.add(hint, Role::hint);
  } else {
    const auto view = input_.view(std::max(0, w - r.used()));
    r.add(encode_utf8(view.visible), Role::normal);
    cursor_col += view.cursor_col;
  }
  p.rows.push_back(r.finish());
  if (focused && !help_) {
    v.cursor_visible = true;
    v.cursor_pane = "input";
    v.cursor_y = l.input.y;
    v.cursor_x = std::min(cursor_col, std::max(0, w - 1));
  }
  v.panes.push_back(std::move(p));
}

void Ui::compose_login(ScreenView& v, const Layout& l, protocol::UnixMs now) const {
  (void)now;
  const int area_h = l.status.height > 0 ? l.status.y : std::max(0, rows_ - 1);
  PaneView p{"login", Rect{0, 0, area_h, cols_}, {}};
  const int w = std::min(56, cols_ - 2);
  const int h = 10;
  const int top = std::max(0, (area_h - h) / 2);
  const int left = std::max(0, (cols_ - std::max(w, 0)) / 2);
  const Status& s = state_.status();
  const int field_w = std::max(1, w - 11);
  const auto field_row = [&](const char* label, const InputLine& field, char32_t mask) {
    RowBuilder r(cols_);
    r.pad_to(left + 1);
    r.add(label, Role::normal, kBold, 0, 10);
    r.pad_to(left + 11);
    const auto view = field.view(field_w, mask);
    r.add(encode_utf8(view.visible), Role::field, kUnderline, 0, field_w);
    r.pad_to(left + 11 + field_w, Role::field, kUnderline);
    return std::make_pair(r.finish(), left + 11 + view.cursor_col);
  };
  int cursor_x = 0;
  int cursor_y = 0;
  const bool on_user = login_.field() == LoginForm::Field::user;
  for (int y = 0; y < area_h; ++y) {
    const int k = y - top;
    if (w < 20 && y == 0) {
      p.rows.push_back(RowBuilder(cols_).add("chat-tui: terminal too small", Role::error).finish());
      continue;
    }
    switch (k) {
      case 0:
        p.rows.push_back(RowBuilder(cols_)
                             .pad_to(left)
                             .add(" chat-tui: log in", Role::title, kBold, 0, w)
                             .pad_to(left + w, Role::title)
                             .finish());
        break;
      case 2:
        p.rows.push_back(
            RowBuilder(cols_)
                .pad_to(left + 1)
                .add("Server:   " + s.server + " (" + std::string(to_string(s.connection)) + ")",
                     Role::normal, 0, 0, w - 2)
                .finish());
        break;
      case 4: {
        auto [row, x] = field_row("User:", login_.user(), 0);
        p.rows.push_back(std::move(row));
        if (on_user) {
          cursor_y = y;
          cursor_x = x;
        }
        break;
      }
      case 5: {
        auto [row, x] = field_row("Password:", login_.password(), U'*');
        p.rows.push_back(std::move(row));
        if (!on_user) {
          cursor_y = y;
          cursor_x = x;
        }
        break;
      }
      case 7:
        p.rows.push_back(RowBuilder(cols_)
                             .pad_to(left + 1)
                             .add(session_.login_error(), Role::error, kBold, 0, w - 2)
                             .finish());
        break;
      case 9:
        p.rows.push_back(
            RowBuilder(cols_)
                .pad_to(left + 1)
                .add("Enter: next field / log in   Tab: switch field", Role::hint, 0, 0, w - 2)
                .finish());
        break;
      default:
        p.rows.push_back(blank_row(cols_));
        break;
    }
  }
  if (area_h > 0) {
    v.cursor_visible = true;
    v.cursor_pane = "login";
    v.cursor_y = std::clamp(cursor_y, 0, area_h - 1);
    v.cursor_x = std::clamp(cursor_x, 0, std::max(0, cols_ - 1));
  }
  v.panes.push_back(std::move(p));
}

void Ui::compose_help(ScreenView& v) {
  const auto lines = help_lines(keys_);
  int w = std::min(cols_ - 4, 84);
  if (w < 24) w = cols_;
  int h = std::min(rows_ - 2, static_cast<int>(lines.size()) + 2);
  if (h < 4) h = rows_;
  if (w <= 2 || h <= 2) return;
  const int inner = h - 2;
  help_page_ = std::max(1, inner - 1);
  const int max_scroll = std::max(0, static_cast<int>(lines.size()) - inner);
  help_scroll_ = std::clamp(help_scroll_, 0, max_scroll);
  PaneView p{"help", Rect{(rows_ - h) / 2, (cols_ - w) / 2, h, w}, {}};
  const std::string title = "\u250c\u2500 chat-tui keys and commands ";
  p.rows.push_back(
      RowBuilder(w)
          .add(title, Role::overlay_title, kBold)
          .add(repeat(kHorizontal, w), Role::overlay_title, 0, 0, w - 1 - display_width_utf8(title))
          .add("\u2510", Role::overlay_title)
          .finish(Role::overlay));
  for (int i = 0; i < inner; ++i) {
    const std::size_t idx = static_cast<std::size_t>(help_scroll_ + i);
    RowBuilder r(w);
    r.add(kVertical, Role::overlay_title);
    if (idx < lines.size()) {
      const bool heading = !lines[idx].starts_with(" ");
      r.add(" " + lines[idx], heading ? Role::overlay_title : Role::overlay, heading ? kBold : 0, 0,
            w - 2);
    }
    r.pad_to(w - 1, Role::overlay);
    r.add(kVertical, Role::overlay_title);
    p.rows.push_back(r.finish(Role::overlay));
  }
  const std::string foot =
      "\u2514\u2500 Esc closes, Up/Down/PgUp/PgDn scroll (" + std::to_string(help_scroll_ + 1) +
      "-" + std::to_string(std::min<int>(help_scroll_ + inner, static_cast<int>(lines.size()))) +
      "/" + std::to_string(lines.size()) + ") ";
  p.rows.push_back(RowBuilder(w)
                       .add(foot, Role::overlay_title, 0, 0, w - 1)
                       .add(repeat(kHorizontal, w), Role::overlay_title, 0, 0,
                            w - 1 - std::min(w - 1, display_width_utf8(foot)))
                       .add("\u2518", Role::overlay_title)
                       .finish(Role::overlay));
  v.panes.push_back(std::move(p));
  v.overlay = true;
  v.cursor_visible = false;
}

// ---- plain text of a frame ---------------------------------------------------------------------

std::vector<std::string> render_text(const ScreenView& view, int rows, int cols) {
  rows = std::max(0, rows);
  cols = std::max(0, cols);
  // One cell per column: the code points drawn there ("" for the right half of a wide
  // character).
  std::vector<std::vector<std::string>> grid(
      static_cast<std::size_t>(rows),
      std::vector<std::string>(static_cast<std::size_t>(cols), " "));
  for (const auto& pane : view.panes) {
    for (int r = 0; r < static_cast<int>(pane.rows.size()); ++r) {
      const int y = pane.rect.y + r;
      if (y < 0 || y >= rows) continue;
      int x = pane.rect.x;
      for (const auto& span : pane.rows[static_cast<std::size_t>(r)].spans) {
        for (char32_t cp : decode_utf8(span.text)) {
          const int w = codepoint_width(cp);
          if (w == 0) {
            if (x > 0 && x - 1 < cols) {
              std::string& cell =
                  grid[static_cast<std::size_t>(y)][static_cast<std::size_t>(x - 1)];
              append_utf8(cell, cp);
            }
            continue;
          }
          if (x >= 0 && x + w <= cols) {
            std::string cell;
            append_utf8(cell, cp);
            grid[static_cast<std::size_t>(y)][static_cast<std::size_t>(x)] = cell;
            if (w == 2) grid[static_cast<std::size_t>(y)][static_cast<std::size_t>(x + 1)].clear();
          }
          x += w;
        }
      }
    }
  }
  std::vector<std::string> out;
  for (const auto& row : grid) {
    std::string line;
    for (const auto& cell : row) line += cell;
    out.push_back(std::move(line));
  }
  return out;
}

const PaneView* find_pane(const ScreenView& view, const std::string& name) {
  for (const auto& p : view.panes)
    if (p.name == name) return &p;
  return nullptr;
}

std::string row_text(const StyledRow& row) {
  std::string out;
  for (const auto& s : row.spans) out += s.text;
  return out;
}

}  // namespace chat::tui
