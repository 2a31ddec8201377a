-- MySQL schema, version 1: the table contract of shared/SCHEMA.md.
-- Idempotent: safe to load into a database that already has it.
-- All times are UTC, DATETIME(3). Emails compare case-insensitively through the
-- case-insensitive collation (PROTOCOL.md: "Emails match case-insensitively").

CREATE TABLE IF NOT EXISTS user (
  user_id       INT          NOT NULL AUTO_INCREMENT,
  name          VARCHAR(255) NOT NULL,
  age           INT          NULL,
  gender        VARCHAR(32)  NULL,
  email         VARCHAR(255) NOT NULL,
  -- Argon2id in PHC form, as libsodium's crypto_pwhash_str writes it.
  password_hash VARCHAR(255) NOT NULL,
  PRIMARY KEY (user_id),
  UNIQUE KEY uq_user_name (name),
  UNIQUE KEY uq_user_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A disabled user (chatctl user disable) cannot log in; login answers invalid_credentials,
-- exactly as for a wrong password. Added after version 1: ALTER ... IF NOT EXISTS upgrades
-- an existing database in place and is a no-op on one that has the column.
ALTER TABLE user ADD COLUMN IF NOT EXISTS disabled BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE IF NOT EXISTS meeting (
  meeting_id  INT          NOT NULL AUTO_INCREMENT,
  title       VARCHAR(255) NOT NULL,
  description TEXT         NULL,
  is_public   BOOLEAN      NOT NULL DEFAULT FALSE,
  PRIMARY KEY (meeting_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who may attend a private meeting; the email need not belong to a user yet.
CREATE TABLE IF NOT EXISTS audience (
  meeting_id INT          NOT NULL,
  email      VARCHAR(255) NOT NULL,
  PRIMARY KEY (meeting_id, email),
  CONSTRAINT fk_audience_meeting FOREIGN KEY (meeting_id) REFERENCES meeting (meeting_id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One scheduled occurrence of a meeting; instances of one meeting do not overlap.
CREATE TABLE IF NOT EXISTS meeting_instance (
  meeting_id    INT         NOT NULL,
  order_id      INT         NOT NULL,
  from_datetime DATETIME(3) NOT NULL,
  to_datetime   DATETIME(3) NOT NULL,
  PRIMARY KEY (meeting_id, order_id),
  KEY ix_instance_window (from_datetime, to_datetime),
  CONSTRAINT fk_instance_meeting FOREIGN KEY (meeting_id) REFERENCES meeting (meeting_id)
    ON DELETE CASCADE,
  CONSTRAINT ck_instance_window CHECK (from_datetime < to_datetime)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Join (1), leave (2) and timeout (3) events, dumped from Redis. No foreign keys: the log
-- outlives deleted users, meetings and instances. redis_id is the event's id in the
-- instance's Redis event stream; the unique key makes a repeated dump a no-op.
CREATE TABLE IF NOT EXISTS event_log (
  event_id   BIGINT      NOT NULL AUTO_INCREMENT,
  user_id    INT         NOT NULL,
  meeting_id INT         NOT NULL,
  order_id   INT         NOT NULL,
  event_type TINYINT     NOT NULL,
  ts         DATETIME(3) NOT NULL,
  redis_id   VARCHAR(40) NOT NULL,
  PRIMARY KEY (event_id),
  UNIQUE KEY uq_event_redis_id (meeting_id, order_id, redis_id),
  KEY ix_event_user (user_id),
  CONSTRAINT ck_event_type CHECK (event_type IN (1, 2, 3))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Chat messages, dumped from Redis. message_id is the protocol's message_id: fixed-width,
-- so its byte order is the meeting instance's chat order.
CREATE TABLE IF NOT EXISTS message (
  meeting_id INT         NOT NULL,
  order_id   INT         NOT NULL,
  message_id VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  user_id    INT         NOT NULL,
  -- The poster's name at the time of posting, as the message event showed it.
  name       VARCHAR(255) NOT NULL DEFAULT '',
  text       TEXT        NOT NULL,
  ts         DATETIME(3) NOT NULL,
  PRIMARY KEY (meeting_id, order_id, message_id),
  KEY ix_message_user (meeting_id, order_id, user_id, message_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
