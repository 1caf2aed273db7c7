-- 0013 clock partitions: the event clock's per-partition high-water marks,
-- kept across restarts. A consumer restarted mid-stream would otherwise
-- treat a partition that had delivered events as never seen, let it drop
-- out as idle while upstream is still refilling it, and run its sweeps past
-- events still to come (common/service.c, common/clock.h).
CREATE TABLE clock_partitions (
    consumer  text   NOT NULL,  -- the consumer group
    topic     text   NOT NULL,
    partition int    NOT NULL,
    high_ms   bigint NOT NULL,  -- highest event time delivered, Unix ms
    PRIMARY KEY (consumer, topic, partition)
);
