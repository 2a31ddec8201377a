#include "keyboard.hpp"

#include <curses.h>
#include <term.h>

namespace chat::tui {
namespace {

constexpr wint_t kEsc = 27;
constexpr wint_t kDel = 127;

// A control character or a plain key as a key name; nullopt for printable text.
std::optional<std::string> control_name(wint_t ch) {
  switch (ch) {
    case L'\t':
      return "Tab";
    case L'\r':
    case L'\n':
      return "Enter";
    case kDel:
    case 8:
      return "Backspace";
    case kEsc:
      return "Esc";
    default:
      break;
  }
  if (ch >= 1 && ch <= 26) return "C-" + std::string(1, static_cast<char>('a' + ch - 1));
  if (ch < 0x20) return std::string();  // other control characters: ignored
  if (ch >= 0x7F && ch < 0xA0) return std::string();
  return std::nullopt;
}

}  // namespace

KeyReader::KeyReader() {
  // xterm-style modified keys: 3 = Alt, 5 = Ctrl, 2 = Shift.
  static const std::pair<const char*, const char*> kCaps[] = {
      {"kLFT3", "M-Left"},  {"kRIT3", "M-Right"}, {"kUP3", "M-Up"},    {"kDN3", "M-Down"},
      {"kHOM3", "M-Home"},  {"kEND3", "M-End"},   {"kPRV3", "M-PgUp"}, {"kNXT3", "M-PgDn"},
      {"kLFT5", "C-Left"},  {"kRIT5", "C-Right"}, {"kUP5", "C-Up"},    {"kDN5", "C-Down"},
      {"kDC3", "M-Delete"},
  };
  for (const auto& [cap, name] : kCaps) {
    char* seq = tigetstr(cap);
    if (seq == nullptr || seq == reinterpret_cast<char*>(-1)) continue;
    const int code = key_defined(seq);
    if (code > 0) extended_[code] = name;
  }
}

std::optional<std::string> KeyReader::function_key(int code) const {
  switch (code) {
    case KEY_UP:
      return "Up";
    case KEY_DOWN:
      return "Down";
    case KEY_LEFT:
      return "Left";
    case KEY_RIGHT:
      return "Right";
    case KEY_HOME:
      return "Home";
    case KEY_END:
      return "End";
    case KEY_PPAGE:
      return "PgUp";
    case KEY_NPAGE:
      return "PgDn";
    case KEY_DC:
      return "Delete";
    case KEY_IC:
      return "Insert";
    case KEY_BACKSPACE:
      return "Backspace";
    case KEY_ENTER:
      return "Enter";
    case KEY_BTAB:
      return "S-Tab";
    default:
      break;
  }
  if (code >= KEY_F(1) && code <= KEY_F(12)) return "F" + std::to_string(code - KEY_F(0));
  if (const auto it = extended_.find(code); it != extended_.end()) return it->second;
  return std::nullopt;
}

std::vector<InputEvent> KeyReader::read_all() {
  std::vector<InputEvent> out;
  const auto key = [&](std::string name) {
    InputEvent e;
    e.key = KeyEvent::named(std::move(name));
    out.push_back(std::move(e));
  };
  wint_t ch = 0;
  int rc = 0;
  while ((rc = get_wch(&ch)) != ERR) {
    if (rc == KEY_CODE_YES) {
      if (ch == KEY_RESIZE) {
        InputEvent e;
        e.type = InputEvent::Type::resize;
        out.push_back(e);
      } else if (ch == KEY_MOUSE) {
        MEVENT me{};
        if (getmouse(&me) != OK) continue;
        InputEvent e;
        e.type = InputEvent::Type::mouse;
        e.mouse.y = me.y;
        e.mouse.x = me.x;
        if ((me.bstate & BUTTON4_PRESSED) != 0) {
          e.mouse.kind = MouseEvent::Kind::wheel_up;
        } else if ((me.bstate & BUTTON5_PRESSED) != 0) {
          e.mouse.kind = MouseEvent::Kind::wheel_down;
        } else if ((me.bstate & BUTTON1_PRESSED) != 0) {
          e.mouse.kind = MouseEvent::Kind::press;
        } else {
          continue;
        }
        out.push_back(e);
      } else if (auto name = function_key(static_cast<int>(ch))) {
        key(*name);
      }
      continue;
    }
    if (ch == kEsc) {
      // Alt-x arrives as ESC x; a lone ESC has nothing behind it (curses waited ESCDELAY
      // for a function key sequence already).
      wint_t next = 0;
      const int rc2 = get_wch(&next);
      if (rc2 == ERR) {
        key("Esc");
      } else if (rc2 == KEY_CODE_YES) {
        const auto name = function_key(static_cast<int>(next));
        key(name ? "M-" + *name : "Esc");
      } else if (next == kEsc) {
        key("Esc");
        unget_wch(next);
      } else if (const auto c = control_name(next)) {
        if (!c->empty()) key("M-" + *c);
      } else if (next < 0x80) {
        key("M-" + std::string(1, static_cast<char>(next)));
      }
      continue;
    }
    if (const auto c = control_name(ch)) {
      if (!c->empty()) key(*c);
      continue;
    }
    InputEvent e;
    e.key = KeyEvent::character(static_cast<char32_t>(ch));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace chat::tui
