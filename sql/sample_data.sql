-- Sample data for the demo (shared/SCHEMA.md, "Sample data"). Load after schema.sql:
--   scripts/demo loads it into a new demo database, or again with `scripts/demo --reset`.
--
-- Users (passwords for the demo only; README.md lists them):
--   john / john-pw, hamid / hamid-pw, haled / haled-pw
--   (Argon2id PHC strings from libsodium crypto_pwhash_str, OPSLIMIT/MEMLIMIT_INTERACTIVE).
--
-- Meetings and who may attend:
--   1 BDMS Course      private, audience john@example.com
--   2 DSA Course       private, audience haled@example.com, hamid@example.com
--   3 Seminar          public
--   4 Lightning Talks  public  -- starts 3 minutes after loading: shows a meeting starting live
--   5 Daily Stand-up   public  -- ends 10 minutes after loading: shows a meeting ending live
--
-- Instance times are placed around the load time (UTC), so a demo always has something
-- active, something ended (yesterday) and something coming:
--   meeting  order 1 (ended)          order 2                       order 3 (coming)
--   1        now-1d-90m .. now-1d     now-30m .. now+2h (active)    now+1d .. now+1d+90m
--   2        now-1d-2h  .. now-1d-30m now-30m .. now+2h (active)    now+2d .. now+2d+2h
--   3        now-1d-1h  .. now-1d     now-15m .. now+1h (active)    now+7d .. now+7d+1h
--   4        now-1d-30m .. now-1d     now+3m  .. now+33m (coming)   now+1d .. now+1d+30m
--   5        now-1d-15m .. now-1d     now-10m .. now+10m (active)   now+1d-10m .. now+1d+10m
--
-- Ids are explicit, so the data is reproducible. Re-loading is safe: the sample rows (and
-- any messages and events logged for the sample meetings) are deleted and inserted anew
-- with times relative to the new load, in one transaction.

SET NAMES utf8mb4;
SET time_zone = '+00:00';
-- Whole seconds: nicer to read in the client; UTC like every time in the schema.
SET @now = CAST(UTC_TIMESTAMP() AS DATETIME(3));

START TRANSACTION;

DELETE FROM message   WHERE meeting_id IN (1, 2, 3, 4, 5);
DELETE FROM event_log WHERE meeting_id IN (1, 2, 3, 4, 5);
-- audience and meeting_instance rows go with their meeting (ON DELETE CASCADE).
DELETE FROM meeting   WHERE meeting_id IN (1, 2, 3, 4, 5);
DELETE FROM user
  WHERE user_id IN (1, 2, 3)
     OR name IN ('john', 'hamid', 'haled')
     OR email IN ('john@example.com', 'hamid@example.com', 'haled@example.com');

INSERT INTO user (user_id, name, age, gender, email, password_hash) VALUES
  (1, 'john',  25,   'male', 'john@example.com',
   '$argon2id$v=19$m=65536,t=2,p=1$Wh7+aRgXjw1p25bQM61naA$zKhe1JfDVen9ZQo2NBX1wjhR2QgrAh6IXQ2dCrSNy2Q'),
  (2, 'hamid', NULL, NULL,   'hamid@example.com',
   '$argon2id$v=19$m=65536,t=2,p=1$uIC09I7aFJrSmWoB2dnp3A$9s1OtvTfbye4nrScd8M4ygNOAnnAc6nI3ShtR13NCtw'),
  (3, 'haled', NULL, NULL,   'haled@example.com',
   '$argon2id$v=19$m=65536,t=2,p=1$8vDliG1zRkbtDJRpiSVgJg$B7eAgafMo6i+rORevRHbR107etmO3WlDQVoCzO1ljRQ');

INSERT INTO meeting (meeting_id, title, description, is_public) VALUES
  (1, 'BDMS Course',     'Big Data Management Systems: weekly lecture and Q&A.', FALSE),
  (2, 'DSA Course',      'Data Structures and Algorithms: problem-solving session.', FALSE),
  (3, 'Seminar',         'Open research seminar; everyone is welcome.', TRUE),
  (4, 'Lightning Talks', 'Five-minute talks, anyone can join.', TRUE),
  (5, 'Daily Stand-up',  'What did you do, what will you do, what blocks you.', TRUE);

INSERT INTO audience (meeting_id, email) VALUES
  (1, 'john@example.com'),
  (2, 'haled@example.com'),
  (2, 'hamid@example.com');

INSERT INTO meeting_instance (meeting_id, order_id, from_datetime, to_datetime) VALUES
  (1, 1, @now - INTERVAL 1 DAY - INTERVAL 90 MINUTE, @now - INTERVAL 1 DAY),
  (1, 2, @now - INTERVAL 30 MINUTE,                  @now + INTERVAL 2 HOUR),
  (1, 3, @now + INTERVAL 1 DAY,                      @now + INTERVAL 1 DAY + INTERVAL 90 MINUTE),

  (2, 1, @now - INTERVAL 1 DAY - INTERVAL 2 HOUR,    @now - INTERVAL 1 DAY - INTERVAL 30 MINUTE),
  (2, 2, @now - INTERVAL 30 MINUTE,                  @now + INTERVAL 2 HOUR),
  (2, 3, @now + INTERVAL 2 DAY,                      @now + INTERVAL 2 DAY + INTERVAL 2 HOUR),

  (3, 1, @now - INTERVAL 1 DAY - INTERVAL 1 HOUR,    @now - INTERVAL 1 DAY),
  (3, 2, @now - INTERVAL 15 MINUTE,                  @now + INTERVAL 1 HOUR),
  (3, 3, @now + INTERVAL 7 DAY,                      @now + INTERVAL 7 DAY + INTERVAL 1 HOUR),

  (4, 1, @now - INTERVAL 1 DAY - INTERVAL 30 MINUTE, @now - INTERVAL 1 DAY),
  (4, 2, @now + INTERVAL 3 MINUTE,                   @now + INTERVAL 33 MINUTE),
  (4, 3, @now + INTERVAL 1 DAY,                      @now + INTERVAL 1 DAY + INTERVAL 30 MINUTE),

  (5, 1, @now - INTERVAL 1 DAY - INTERVAL 15 MINUTE, @now - INTERVAL 1 DAY),
  (5, 2, @now - INTERVAL 10 MINUTE,                  @now + INTERVAL 10 MINUTE),
  (5, 3, @now + INTERVAL 1 DAY - INTERVAL 10 MINUTE, @now + INTERVAL 1 DAY + INTERVAL 10 MINUTE);

COMMIT;
