-- 0015 deal visits: a deal's latest visit before a time (deal.no_progress_after_visit,
-- on every visit, commitment intent, stage change and sweep candidate) walked the
-- deal's whole interaction index backwards looking for one (0.5 ms per call on the
-- demo quarter); the visits alone, by deal and time, make it one index probe.
CREATE INDEX interactions_deal_visits ON interactions (deal_id, occurred_at DESC)
    WHERE activity_kind IN ('visit', 'executive_visit') AND deal_id IS NOT NULL;
