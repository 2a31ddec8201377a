#include "chat/tui/login_form.hpp"

namespace chat::tui {

bool LoginForm::enter() noexcept {
  if (field_ == Field::user) {
    field_ = Field::password;
    return false;
  }
  if (user_.empty()) {
    field_ = Field::user;
    return false;
  }
  return true;
}

void LoginForm::reset_password() noexcept {
  password_.clear();
  field_ = user_.empty() ? Field::user : Field::password;
}

}  // namespace chat::tui
