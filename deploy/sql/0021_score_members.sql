-- Event clock with several sp-score instances in one consumer group: each
-- instance publishes how far in event time it has applied its partitions
-- (its watermark, but not past an event it holds), and a sweep waits for
-- the slowest live one (services/score/score_svc.c, members). Each instance
-- orders only its own partitions; without this, one instance swept a
-- boundary while another had not yet applied the events before it.
CREATE TABLE score_members (
    consumer text NOT NULL,
    member text NOT NULL,
    applied_ms bigint NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, member)
);
