-- ./dev bench boards: the staging table the generated CSV is \copy'd into
-- (unlogged: it lives only for the load). n keeps the file's order, which is
-- the order votes draw their vote_events; id is the battle's id, random as
-- the arena's own (gen_random_uuid()).
CREATE UNLOGGED TABLE boards_stage (
  n         bigint GENERATED ALWAYS AS IDENTITY,
  id        uuid NOT NULL DEFAULT gen_random_uuid(),
  model_a   text NOT NULL,
  model_b   text NOT NULL,
  winner    text NOT NULL,
  tstamp    double precision NOT NULL,
  language  text NOT NULL,
  category  text NOT NULL,
  len_a     integer NOT NULL,
  len_b     integer NOT NULL,
  header_a  integer NOT NULL,
  header_b  integer NOT NULL,
  list_a    integer NOT NULL,
  list_b    integer NOT NULL,
  bold_a    integer NOT NULL,
  bold_b    integer NOT NULL
);
