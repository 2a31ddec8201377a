// The login screen's model: two fields, the password masked when drawn.
#pragma once

#include "chat/tui/input_line.hpp"

namespace chat::tui {

/// User name and password fields with a focus; shown when no credentials are known.
class LoginForm {
 public:
  enum class Field { user, password };

  /// The field that receives typed keys.
  InputLine& active() noexcept { return field_ == Field::user ? user_ : password_; }
  Field field() const noexcept { return field_; }
  void focus(Field field) noexcept { field_ = field; }
  /// Tab / Up / Down: the other field.
  void next_field() noexcept { field_ = field_ == Field::user ? Field::password : Field::user; }

  /// Enter: from the user field moves to the password; from the password field returns true
  /// (submit) when the user name is not empty, else moves back to the user field.
  bool enter() noexcept;

  /// After a submit or a failed login: password cleared, focus on the password if a user
  /// name is there, else on the user field.
  void reset_password() noexcept;

  const InputLine& user() const noexcept { return user_; }
  const InputLine& password() const noexcept { return password_; }
  InputLine& user() noexcept { return user_; }

 private:
  InputLine user_;
  InputLine password_;
  Field field_ = Field::user;
};

}  // namespace chat::tui
