-- The vote_events value of each change a leaderboard snapshot depends on, so
-- a stored snapshot can be recomputed from the votes it saw (huashan db
-- recompute-snapshot): a vote counts when its vote_event is at most the
-- snapshot's last_vote_event, and a flag takes a battle out from its
-- flagged_event on. Rows from before this migration carry NULL: older than
-- any snapshot that can be reproduced this way.
ALTER TABLE votes ADD COLUMN vote_event bigint;
ALTER TABLE battles ADD COLUMN flagged_event bigint;
CREATE INDEX votes_vote_event ON votes (vote_event);
