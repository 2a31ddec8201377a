// What the service needs of a connected client.
#pragma once

#include <memory>
#include <string>

namespace chat::service {

/// A connection the service can push frames to (implemented by net::Session). The service
/// holds clients weakly: a closed connection simply stops receiving.
class Client {
 public:
  virtual ~Client() = default;
  /// Queues one complete frame ('\n' included) for sending. The same buffer is shared by
  /// every recipient of an event, so it is never copied per client.
  virtual void deliver(std::shared_ptr<const std::string> frame) = 0;
  /// Closes the connection (e.g. on shutdown).
  virtual void close() = 0;
};

}  // namespace chat::service
